import Foundation
import IcebergCore
import Parquet

/// What kind of token a scalar value came from.
package enum ScalarKind: Sendable, Equatable {
    /// A JSON string (already unescaped).
    case string
    /// A bare JSON number.
    case number
    /// A JSON `true` or `false`.
    case boolean(Bool)
    /// Untyped text, as a CSV cell: converted to whatever the column's type is.
    case text

    var name: String {
        switch self {
        case .string: "a string"
        case .number: "a number"
        case .boolean: "a boolean"
        case .text: "text"
        }
    }
}

/// How input values become column values.
public struct ConversionOptions: Sendable, Equatable {
    /// The unit of epoch numbers given for timestamp columns.
    public enum EpochUnit: String, Sendable, CaseIterable {
        /// Guess from the magnitude: below 10^11 seconds, below 10^14 milliseconds, below 10^17
        /// microseconds, otherwise nanoseconds (each covers the years 1973 to 5138).
        case auto
        case seconds, milliseconds, microseconds, nanoseconds
    }

    /// Unit of numeric timestamps, e.g. Firehose's `approximateArrivalTimestamp` in milliseconds.
    public var epochUnit: EpochUnit
    /// Whether JSON strings convert to numeric, boolean and date/time columns (`"42"` into a long).
    public var numbersFromStrings: Bool
    /// Routing by a field: which records this pass keeps (set by ``RoutedIngestor`` per table; JSON only).
    package var route: RouteFilter?

    public init(epochUnit: EpochUnit = .auto, numbersFromStrings: Bool = true) {
        self.epochUnit = epochUnit
        self.numbersFromStrings = numbersFromStrings
    }
}

/// Why a value does not fit its column; the parser adds the file, line, offset and field.
package struct ConversionFailure: Error, Sendable {
    package var reason: String
    /// A type mismatch (the default), a required value missing, or text that is not UTF-8.
    package var kind: BadRecord.Kind
    /// A wider type of the column that would hold the value (int to long, a larger decimal precision).
    package var widening: PrimitiveType? {
        if case .typeMismatch(let wider) = kind { return wider }
        return nil
    }

    init(_ reason: String, widening: PrimitiveType? = nil) {
        self.reason = reason
        self.kind = .typeMismatch(widening: widening)
    }

    init(_ kind: BadRecord.Kind, _ reason: String) {
        self.reason = reason
        self.kind = kind
    }
}

extension PrimitiveType {
    /// Whether `self` holds every value of `other` (for choosing among widenings).
    func isWider(than other: PrimitiveType) -> Bool {
        switch (self, other) {
        case (.long, .int), (.double, .float): true
        case (.decimal(let p1, let s1), .decimal(let p2, let s2)): s1 == s2 && p1 >= p2
        default: self == other
        }
    }
}

extension LeafBuilder {
    /// Converts a scalar token to the column's type and appends it.
    package mutating func appendScalar(
        _ text: UnsafeBufferPointer<UInt8>, kind: ScalarKind, type: PrimitiveType, options: ConversionOptions,
        repetition rep: UInt16 = 0
    ) throws(ConversionFailure) {
        func mismatch() -> ConversionFailure {
            ConversionFailure("expected \(type), found \(kind.name) \(ScalarText.quoted(text))")
        }
        // Strings convert to non-string columns when allowed; CSV text always does.
        let convertible: Bool
        switch kind {
        case .text, .number: convertible = true
        case .string: convertible = options.numbersFromStrings
        case .boolean: convertible = false
        }
        switch type {
        case .string:
            guard kind == .string || kind == .text else { throw mismatch() }
            // Escaped text is checked here too: an escape sequence can sit beside bytes that are not UTF-8.
            guard ScalarText.isValidUTF8(text) else { throw ConversionFailure(.malformed, "the \(kind == .string ? "string" : "text") is not valid UTF-8") }
            append(bytes: text, repetition: rep)
        case .boolean:
            if case .boolean(let b) = kind { append(b, repetition: rep); return }
            guard kind == .text || (kind == .string && options.numbersFromStrings), let b = ScalarText.boolean(text) else { throw mismatch() }
            append(b, repetition: rep)
        case .int, .long:
            guard convertible, let v = ScalarText.integer(text) else {
                if convertible, ScalarText.isIntegerText(text) {
                    throw ConversionFailure("\(ScalarText.quoted(text)) is out of range for \(type) (a long holds -9223372036854775808 to 9223372036854775807)")
                }
                if convertible, ScalarText.double(text) != nil { throw ConversionFailure("expected \(type), found the non-integral number \(ScalarText.quoted(text))") }
                throw mismatch()
            }
            if type == .int {
                guard let narrow = Int32(exactly: v) else { throw ConversionFailure("\(v) is out of range for int", widening: .long) }
                append(narrow, repetition: rep)
            } else {
                append(v, repetition: rep)
            }
        case .float:
            guard convertible, let v = ScalarText.double(text) else { throw mismatch() }
            let narrow = Float(v)
            // A finite value past float's range would become infinity: it needs a double column.
            if narrow.isInfinite, v.isFinite { throw ConversionFailure("\(ScalarText.quoted(text)) is out of range for float", widening: .double) }
            append(narrow, repetition: rep)
        case .double:
            guard convertible, let v = ScalarText.double(text) else { throw mismatch() }
            append(v, repetition: rep)
        case .decimal(let precision, let scale):
            guard convertible else { throw mismatch() }
            let unscaled = try ScalarText.decimal(text, precision: precision, scale: scale)
            switch LeafStorageKind(type) {
            case .int32: append(Int32(unscaled), repetition: rep)
            case .int64: append(Int64(unscaled), repetition: rep)
            default: append(bytes: ScalarText.bigEndian(unscaled, width: ParquetValueType.decimalBytes(precision: precision)), repetition: rep)
            }
        case .date:
            if kind == .number, let days = ScalarText.integer(text), let d = Int32(exactly: days) { append(d, repetition: rep); return }
            guard kind != .number, convertible, let days = ScalarText.date(text) else { throw mismatch() }
            append(days, repetition: rep)
        case .time:
            guard kind != .number, convertible, let micros = ScalarText.time(text) else { throw mismatch() }
            append(micros, repetition: rep)
        case .timestamp, .timestamptz:
            // ISO-8601 text first when it starts like a date (no epoch number has a '-' after four digits).
            if kind != .number, text.count >= 10, text[4] == UInt8(ascii: "-"), convertible || kind == .string, let micros = ScalarText.timestamp(text) {
                append(micros, repetition: rep)
                return
            }
            // Epoch numbers, also given as strings when numbers may come as strings (`"1764000000"`).
            if kind == .number || kind == .text || (kind == .string && options.numbersFromStrings),
                let micros = ScalarText.epochMicros(text, unit: options.epochUnit)
            {
                append(micros, repetition: rep)
                return
            }
            guard kind != .number, convertible || kind == .string, let micros = ScalarText.timestamp(text) else {
                throw ConversionFailure("expected \(type) (ISO-8601 or epoch seconds/ms/us), found \(kind.name) \(ScalarText.quoted(text))")
            }
            append(micros, repetition: rep)
        case .uuid:
            guard kind == .string || kind == .text, let bytes = ScalarText.uuid(text) else { throw mismatch() }
            append(bytes: bytes, repetition: rep)
        case .binary, .fixed:
            guard kind == .string || kind == .text, let data = Data(base64Encoded: Data(text)) else {
                throw ConversionFailure("expected \(type) as base64 text, found \(kind.name) \(ScalarText.quoted(text))")
            }
            if case .fixed(let length) = type, data.count != length {
                throw ConversionFailure("expected \(length) bytes for \(type), found \(data.count)")
            }
            append(bytes: [UInt8](data), repetition: rep)
        }
    }
}
