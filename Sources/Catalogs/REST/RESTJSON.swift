import IcebergCore

/// Reading the REST spec's JSON bodies: strings, string maps, namespaces. (Named apart from other catalogs'
/// helpers on purpose: these are lenient where the spec is, and nothing more.)
enum RESTJSON {
    /// The string, or nil for any other kind of value.
    static func string(_ value: JSONValue?) -> String? {
        if case .string(let s)? = value { return s }
        return nil
    }

    /// An object of strings as a dictionary (numbers and booleans as their text); nil for anything else.
    static func stringMap(_ value: JSONValue?) -> [String: String]? {
        guard case .object(let pairs)? = value else { return nil }
        var result: [String: String] = [:]
        for (key, member) in pairs {
            switch member {
            case .string(let s): result[key] = s
            case .int(let i): result[key] = String(i)
            case .bool(let b): result[key] = String(b)
            case .double(let d): result[key] = String(d)
            default: continue
            }
        }
        return result
    }

    /// An array of strings (a namespace); nil when it is anything else.
    static func stringArray(_ value: JSONValue?) -> [String]? {
        guard case .array(let values)? = value else { return nil }
        let strings = values.compactMap { string($0) }
        return strings.count == values.count ? strings : nil
    }

    /// A JSON object of string values with sorted keys (stable request bodies).
    static func object(_ dictionary: [String: String]) -> JSONValue {
        .object(dictionary.sorted { $0.key < $1.key }.map { ($0.key, .string($0.value)) })
    }

    /// The spec's `TableIdentifier` object.
    static func identifier(_ identifier: TableIdentifier) -> JSONValue {
        .object([("namespace", .array(identifier.namespace.map { .string($0) })), ("name", .string(identifier.name))])
    }

    /// Parses a response body; `source` names the route in errors.
    static func parse(_ body: [UInt8], source: String) throws -> JSONValue {
        try JSONValue.parse(body, source: source)
    }
}
