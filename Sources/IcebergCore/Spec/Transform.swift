/// A partition transform (spec: "Partition Transforms").
///
/// ```swift
/// let hour = try Transform(parsing: "hour")
/// hour.apply(.timestamptz(1_764_000_000_000_000))   // .int(490_000): hours since the epoch
/// try Transform(parsing: "bucket[16]").apply(.string("iceberg"))  // .int(bucket)
/// ```
public enum Transform: Sendable, Hashable, CustomStringConvertible {
    case identity
    case bucket(Int)
    case truncate(Int)
    case year, month, day, hour
    case void

    public var description: String {
        switch self {
        case .identity: "identity"
        case .bucket(let n): "bucket[\(n)]"
        case .truncate(let w): "truncate[\(w)]"
        case .year: "year"
        case .month: "month"
        case .day: "day"
        case .hour: "hour"
        case .void: "void"
        }
    }

    /// Parses a transform name. Throws `.invalidMetadata` for an unknown one.
    public init(parsing text: String) throws {
        func argument(_ prefix: String) -> Int? {
            guard text.hasPrefix(prefix + "["), text.hasSuffix("]") else { return nil }
            return Int(text.dropFirst(prefix.count + 1).dropLast()).flatMap { $0 > 0 ? $0 : nil }
        }
        switch text {
        case "identity": self = .identity
        case "year": self = .year
        case "month": self = .month
        case "day": self = .day
        case "hour": self = .hour
        case "void": self = .void
        default:
            if let n = argument("bucket") {
                self = .bucket(n)
            } else if let w = argument("truncate") {
                self = .truncate(w)
            } else {
                throw IcebergError(.invalidMetadata, "unknown partition transform '\(text)'")
            }
        }
    }

    /// Whether the transform applies to a source column of `type`.
    public func canTransform(_ type: PrimitiveType) -> Bool {
        switch (self, type) {
        case (.identity, _), (.void, _): true
        case (.bucket, .int), (.bucket, .long), (.bucket, .decimal), (.bucket, .date), (.bucket, .time),
            (.bucket, .timestamp), (.bucket, .timestamptz), (.bucket, .string), (.bucket, .uuid), (.bucket, .fixed),
            (.bucket, .binary):
            true
        case (.truncate, .int), (.truncate, .long), (.truncate, .decimal), (.truncate, .string), (.truncate, .binary): true
        case (.year, .date), (.year, .timestamp), (.year, .timestamptz), (.month, .date), (.month, .timestamp),
            (.month, .timestamptz), (.day, .date), (.day, .timestamp), (.day, .timestamptz):
            true
        case (.hour, .timestamp), (.hour, .timestamptz): true
        default: false
        }
    }

    /// The type of the partition value for a source of `type`.
    public func resultType(_ source: PrimitiveType) -> PrimitiveType {
        switch self {
        case .identity, .truncate, .void: source
        case .bucket, .year, .month, .hour: .int
        case .day: .date
        }
    }

    /// The partition value of `value` (nil stays nil; `void` always gives nil).
    public func apply(_ value: Literal?) -> Literal? {
        guard let value else { return nil }
        switch self {
        case .identity: return value
        case .void: return nil
        case .bucket(let n):
            guard let hash = Murmur3.hash(value) else { return nil }
            return .int(Int32((Int64(hash) & Int64(Int32.max)) % Int64(n)))
        case .truncate(let width):
            let w = Int64(width)
            switch value {
            case .int(let v): return .int(Int32(Int64(v) - (((Int64(v) % w) + w) % w)))
            case .long(let v): return .long(v - (((v % w) + w) % w))
            case .decimal(let u, let s):
                let w128 = Int128(width)
                return .decimal(unscaled: u - (((u % w128) + w128) % w128), scale: s)
            case .string(let s): return .string(String(s.unicodeScalars.prefix(width).map(Character.init)))
            case .binary(let b): return .binary(Array(b.prefix(width)))
            default: return nil
            }
        case .year, .month, .day, .hour:
            let micros: Int64
            switch value {
            case .date(let d): micros = Int64(d) * CivilTime.microsPerDay
            case .timestamp(let t), .timestamptz(let t): micros = t
            default: return nil
            }
            let days = CivilTime.floorDiv(micros, CivilTime.microsPerDay)
            switch self {
            case .hour: return .int(Int32(CivilTime.floorDiv(micros, CivilTime.microsPerHour)))
            case .day: return .date(Int32(days))
            default:
                let c = CivilTime.civil(days: days)
                let years = c.year - 1970
                return .int(Int32(self == .year ? years : years * 12 + c.month - 1))
            }
        }
    }

    /// The value as Java and PyIceberg print it in partition paths (`2026-11-24-10` for an hour).
    public func humanString(_ value: Literal?) -> String {
        guard let value else { return "null" }
        switch (self, value) {
        case (.year, .int(let y)): return CivilTime.pad(1970 + Int64(y), 4)
        case (.month, .int(let m)):
            let months = Int64(m)
            return "\(CivilTime.pad(1970 + CivilTime.floorDiv(months, 12), 4))-\(CivilTime.pad(months - CivilTime.floorDiv(months, 12) * 12 + 1, 2))"
        case (.day, .date(let d)): return CivilTime.dateString(days: Int64(d))
        case (.hour, .int(let h)):
            let hours = Int64(h), day = CivilTime.floorDiv(hours, 24)
            return "\(CivilTime.dateString(days: day))-\(CivilTime.pad(hours - day * 24, 2))"
        case (_, .timestamp(let t)): return CivilTime.timestampString(micros: t, zone: false)
        case (_, .timestamptz(let t)): return CivilTime.timestampString(micros: t, zone: true)
        default: return value.description
        }
    }
}
