import Foundation
import IcebergCore

/// How a source names its time partitions under a root prefix. Times are UTC; an hour is counted in whole
/// hours since the Unix epoch (the same count the checkpoint uses).
///
/// ```swift
/// PrefixLayout.firehose.prefix(forHour: 494_458)      // "2026/05/29/10/"
/// PrefixLayout.hive.prefix(forHour: 494_458)          // "year=2026/month=05/day=29/hour=10/"
/// PrefixLayout.daily.prefix(forHour: 494_458)         // "dt=2026-05-29/"
/// try PrefixLayout(pattern: "logs/{yyyy}{MM}{dd}/{HH}/")
/// ```
public struct PrefixLayout: Sendable, Equatable {
    enum Token: Equatable, Sendable { case literal(String), year, month, day, hour, minute }

    let tokens: [Token]
    /// A short name for summaries and checkpoint keys.
    public let name: String

    /// Kinesis Firehose's `YYYY/MM/DD/HH/`.
    public static let firehose = try! PrefixLayout(pattern: "{yyyy}/{MM}/{dd}/{HH}/", name: "firehose")
    /// Hive-style `year=YYYY/month=MM/day=DD/hour=HH/`.
    public static let hive = try! PrefixLayout(pattern: "year={yyyy}/month={MM}/day={dd}/hour={HH}/", name: "hive")
    /// Daily `dt=YYYY-MM-DD/`.
    public static let daily = try! PrefixLayout(pattern: "dt={yyyy}-{MM}-{dd}/", name: "dt")

    /// A user pattern with `{yyyy}`, `{MM}`, `{dd}`, `{HH}` and `{mm}` tokens. It must contain `{yyyy}`,
    /// and no finer token without the coarser ones.
    public init(pattern: String, name: String? = nil) throws {
        var tokens: [Token] = []
        var rest = Substring(pattern)
        while !rest.isEmpty {
            if rest.hasPrefix("{"), let close = rest.firstIndex(of: "}") {
                let token: Token
                switch rest[rest.index(after: rest.startIndex)..<close] {
                case "yyyy": token = .year
                case "MM": token = .month
                case "dd": token = .day
                case "HH": token = .hour
                case "mm": token = .minute
                case let other: throw IngestError(.invalidConfiguration, "unknown token {\(other)} in prefix pattern '\(pattern)'")
                }
                tokens.append(token)
                rest = rest[rest.index(after: close)...]
            } else {
                let next = rest.firstIndex(of: "{") ?? rest.endIndex
                tokens.append(.literal(String(rest[..<next])))
                rest = rest[next...]
            }
        }
        let present = Set(tokens.compactMap { t -> Int? in
            switch t { case .year: 0; case .month: 1; case .day: 2; case .hour: 3; case .minute: 4; case .literal: nil }
        })
        guard present.contains(0), present == Set(0..<present.count) else {
            throw IngestError(.invalidConfiguration, "prefix pattern '\(pattern)' must have {yyyy} and no finer token without the coarser ones")
        }
        self.tokens = tokens
        self.name = name ?? pattern
    }

    /// Whether partitions are hours (`{HH}` or finer) or days.
    public var isHourly: Bool { tokens.contains(.hour) }

    /// The hours one partition covers: 1 for hourly layouts, 24 for daily ones.
    public var hoursPerPartition: Int32 { isHourly ? 1 : 24 }

    /// The prefix (relative to the root) of the partition holding `hour`. With a `{mm}` token the prefix
    /// stops before the minutes, so one listing covers the whole hour.
    public func prefix(forHour hour: Int32) -> String {
        let days = CivilTime.floorDiv(Int64(hour), 24)
        let (y, m, d) = CivilTime.civil(days: days)
        let h = Int64(hour) - days * 24
        var out = ""
        for token in tokens {
            switch token {
            case .literal(let text): out += text
            case .year: out += CivilTime.pad(y, 4)
            case .month: out += CivilTime.pad(m, 2)
            case .day: out += CivilTime.pad(d, 2)
            case .hour: out += CivilTime.pad(h, 2)
            case .minute: return out
            }
        }
        return out
    }

    /// The partition prefixes (relative to the root) covering `firstHour ... lastHour`, oldest first, each
    /// once: hour by hour, so a daily layout's days all appear whatever hour the range starts at.
    public func prefixes(from firstHour: Int32, to lastHour: Int32) -> [String] {
        guard firstHour <= lastHour else { return [] }
        var prefixes: [String] = []
        var hour = firstHour
        while hour <= lastHour {
            let prefix = prefix(forHour: hour)
            if prefixes.last != prefix { prefixes.append(prefix) }
            hour += 1
        }
        return prefixes
    }

    /// The hour a key (relative to the root) belongs to, or nil when it does not follow the layout.
    /// Daily layouts give the day's first hour.
    public func hour(ofKey key: String) -> Int32? {
        var rest = Substring(key)
        var y: Int64?, m: Int64 = 1, d: Int64 = 1, h: Int64 = 0
        for token in tokens {
            func digits(_ n: Int) -> Int64? {
                guard rest.count >= n, rest.prefix(n).allSatisfy(\.isASCII), let v = Int64(rest.prefix(n)) else { return nil }
                rest = rest.dropFirst(n)
                return v
            }
            switch token {
            case .literal(let text):
                guard rest.hasPrefix(text) else { return nil }
                rest = rest.dropFirst(text.count)
            case .year: guard let v = digits(4) else { return nil }; y = v
            case .month: guard let v = digits(2), (1...12).contains(v) else { return nil }; m = v
            case .day: guard let v = digits(2), (1...31).contains(v) else { return nil }; d = v
            case .hour: guard let v = digits(2), v < 24 else { return nil }; h = v
            case .minute: guard let v = digits(2), v < 60 else { return nil }; _ = v
            }
        }
        guard let y else { return nil }
        return Int32(CivilTime.days(year: y, month: m, day: d) * 24 + h)
    }

    /// The hour containing `date`.
    public static func hour(of date: Date) -> Int32 {
        Int32(CivilTime.floorDiv(Int64(date.timeIntervalSince1970.rounded(.down)), 3600))
    }
}
