import ArgumentParser
import IcebergIngest

/// A duration on the command line: a number and a unit, `90s`, `30m`, `1h`, `7d`, from 0 to ``maxDays`` days.
struct DurationText: ExpressibleByArgument, Sendable {
    /// The duration in milliseconds.
    var millis: Int64

    /// The longest duration a flag takes, in days (100 years): a longer, infinite or NaN number is refused
    /// rather than trapping where it becomes milliseconds.
    static let maxDays = 36_500

    init(millis: Int64) { self.millis = millis }

    init?(argument: String) {
        guard let duration = try? Self.parse(argument) else { return nil }
        self = duration
    }

    /// `argument` as a duration, or an error saying what a duration is and its range: for
    /// `@Option(transform:)`, whose error ArgumentParser shows after the flag and the value
    /// (`The value '1e30d' is invalid for '--upkeep-every <upkeep-every>': ...`).
    static func parse(_ argument: String) throws -> DurationText {
        let scales: [Character: Double] = ["s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000]
        guard let unit = argument.last, let scale = scales[unit], let number = Double(argument.dropLast()), number.isFinite, number >= 0,
            number * scale <= Double(maxDays) * 86_400_000
        else {
            throw ValidationError("a duration is a number and a unit (s, m, h or d), such as 90s, 30m, 1h or 7d, from 0s to \(maxDays)d")
        }
        return DurationText(millis: Int64(number * scale))
    }

    /// The duration as the flag takes it, in the largest unit that holds it exactly (`3d`, `90s`): what
    /// `--help` shows as the default.
    var defaultValueDescription: String {
        for (unit, scale) in [("d", Int64(86_400_000)), ("h", 3_600_000), ("m", 60_000), ("s", 1000)] where millis % scale == 0 {
            return "\(millis / scale)\(unit)"
        }
        return "\(Double(millis) / 1000)s"
    }

    static var defaultCompletionKind: CompletionKind { .default }
}
