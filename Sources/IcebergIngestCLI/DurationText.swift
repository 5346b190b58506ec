import ArgumentParser
import IcebergIngest

/// A duration on the command line: a number and a unit, `90s`, `30m`, `1h`, `7d`.
struct DurationText: ExpressibleByArgument, Sendable {
    /// The duration in milliseconds.
    var millis: Int64

    init(millis: Int64) { self.millis = millis }

    init?(argument: String) {
        guard let unit = argument.last, let number = Double(argument.dropLast()), number >= 0 else { return nil }
        let scale: Double
        switch unit {
        case "s": scale = 1000
        case "m": scale = 60_000
        case "h": scale = 3_600_000
        case "d": scale = 86_400_000
        default: return nil
        }
        millis = Int64(number * scale)
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
