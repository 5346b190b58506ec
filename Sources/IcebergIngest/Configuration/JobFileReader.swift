import IcebergCore

/// Typed reads of a job file's `section.key` values, each error naming the file and the key. Numbers and
/// booleans may be given as strings (so that they can come from environment variables).
///
/// An empty value (`""`, or only spaces) is the same as none, whatever the setting: `ICEBERG_INGEST_S3_ENDPOINT=`
/// leaves the S3 endpoint unset (so `S3_ENDPOINT`, else AWS, applies) rather than naming an empty host, and over
/// a job file's key it unsets that key (its default applies).
struct JobFileReader {
    let json: JSONValue
    let path: String

    func error(_ message: String) -> IngestError { IngestError(.invalidConfiguration, "\(path): \(message)") }

    func value(_ section: String, _ key: String) -> JSONValue? {
        let value = json[section]?[key]
        if case .string(let text)? = value, text.allSatisfy(\.isWhitespace) { return nil }
        return value
    }

    func string(_ section: String, _ key: String) throws -> String? {
        guard let value = value(section, key) else { return nil }
        switch value {
        case .string(let text): return text
        case .int(let i): return String(i)
        case .object, .array:
            if section == "table" && key == "schema" { return value.serialized() }
            fallthrough
        default: throw error("'\(section).\(key)' must be a string")
        }
    }

    /// A number within `range`: a huge or non-finite one (`1e400` is infinity) is an error naming the key, not
    /// a trap where the value later becomes an integer or a duration.
    func number(_ section: String, _ key: String, _ range: ClosedRange<Double>) throws -> Double? {
        guard let value = value(section, key) else { return nil }
        let number: Double? =
            switch value {
            case .int(let i): Double(i)
            case .double(let d): d
            case .string(let text): Double(text.trimmingCharacters(in: .whitespaces))
            default: nil
            }
        guard let number else { throw error("'\(section).\(key)' must be a number") }
        guard number.isFinite, range.contains(number) else {
            throw error(IngestError.outOfRange("'\(section).\(key)'", number, range))
        }
        return number
    }

    func int<Number: FixedWidthInteger>(_ section: String, _ key: String, _ range: ClosedRange<Number>) throws -> Number? {
        guard let value = value(section, key) else { return nil }
        let number: Int64? =
            switch value {
            case .int(let i): i
            case .string(let text): Int64(text.trimmingCharacters(in: .whitespaces))
            default: nil
            }
        guard let number else { throw error("'\(section).\(key)' must be an integer, not \(value.serialized())") }
        guard let fitted = Number(exactly: number), range.contains(fitted) else {
            throw error(IngestError.outOfRange("'\(section).\(key)'", number, Int64(range.lowerBound)...Int64(range.upperBound)))
        }
        return fitted
    }

    func bool(_ section: String, _ key: String) throws -> Bool? {
        switch value(section, key) {
        case nil: return nil
        case .bool(let b)?: return b
        case .string("true")?: return true
        case .string("false")?: return false
        default: throw error("'\(section).\(key)' must be true or false")
        }
    }

    /// One of a policy's named values.
    func choice<T: RawRepresentable & CaseIterable>(_ section: String, _ key: String, _: T.Type) throws -> T? where T.RawValue == String {
        guard let text = try string(section, key) else { return nil }
        guard let value = T(rawValue: text) else {
            throw error("'\(section).\(key)' cannot be '\(text)' (one of \(T.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        return value
    }

    /// A section's `properties` object, every value a string.
    func properties(_ section: String) throws -> [String: String] {
        guard case .object(let members)? = value(section, "properties") else { return [:] }
        var out: [String: String] = [:]
        for (k, v) in members {
            guard case .string(let text) = v else { throw error("'\(section).properties.\(k)' must be a string") }
            out[k] = text
        }
        return out
    }
}
