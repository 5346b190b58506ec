import IcebergCore

/// Typed reads of a job file's `section.key` values, each error naming the file and the key. Numbers and
/// booleans may be given as strings (so that they can come from environment variables).
struct JobFileReader {
    let json: JSONValue
    let path: String

    func error(_ message: String) -> IngestError { IngestError(.invalidConfiguration, "\(path): \(message)") }

    func value(_ section: String, _ key: String) -> JSONValue? { json[section]?[key] }

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

    func number(_ section: String, _ key: String) throws -> Double? {
        switch value(section, key) {
        case nil: return nil
        case .int(let i)?: return Double(i)
        case .double(let d)?: return d
        case .string(let text)?:
            if let d = Double(text.trimmingCharacters(in: .whitespaces)), d.isFinite { return d }
            fallthrough
        default: throw error("'\(section).\(key)' must be a number")
        }
    }

    func int(_ section: String, _ key: String, _ range: ClosedRange<Int64>) throws -> Int64? {
        guard let value = value(section, key) else { return nil }
        let number: Int64? =
            switch value {
            case .int(let i): i
            case .string(let text): Int64(text.trimmingCharacters(in: .whitespaces))
            default: nil
            }
        guard let number else { throw error("'\(section).\(key)' must be an integer, not \(value.serialized())") }
        guard range.contains(number) else {
            throw error("'\(section).\(key)' is \(number): it must be from \(range.lowerBound) to \(range.upperBound)")
        }
        return number
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
