import Foundation

extension AvroSchema {
    /// Parses a schema's JSON text (as found in a container file's `avro.schema`), resolving named types.
    package init(parsing text: String) throws {
        let object: Any
        do {
            object = try JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed])
        } catch {
            throw AvroError(.invalidSchema, "schema is not JSON: \(error.localizedDescription)")
        }
        var named: [String: AvroSchema] = [:]
        self = try Self.parse(object, namespace: nil, named: &named, path: "schema")
    }

    private static let reserved: Set<String> = ["type", "name", "namespace", "fields", "items", "values", "symbols", "size", "doc", "aliases", "default", "order"]

    private static func properties(_ object: [String: Any]) -> AvroProperties {
        var result: AvroProperties = [:]
        for (key, value) in object where !reserved.contains(key) {
            if let number = value as? NSNumber {
                // NSNumber keeps booleans apart by their type encoding ("c").
                if String(cString: number.objCType) == "c" { result[key] = .bool(number.boolValue) } else { result[key] = .int(number.int64Value) }
            } else if let string = value as? String {
                result[key] = .string(string)
            }
        }
        return result
    }

    private static func primitive(_ name: String) -> AvroSchema? {
        switch name {
        case "null": .null
        case "boolean": .boolean
        case "int": .int
        case "long": .long
        case "float": .float
        case "double": .double
        case "bytes": .bytes
        case "string": .string
        default: nil
        }
    }

    private static func fullName(_ name: String, _ namespace: String?) -> String {
        name.contains(".") || namespace == nil || namespace!.isEmpty ? name : "\(namespace!).\(name)"
    }

    private static func parse(_ json: Any, namespace: String?, named: inout [String: AvroSchema], path: String) throws -> AvroSchema {
        if let name = json as? String {
            if let p = primitive(name) { return p }
            if let found = named[fullName(name, namespace)] ?? named[name] { return found }
            throw AvroError(.invalidSchema, "\(path): unknown type '\(name)'")
        }
        if let branches = json as? [Any] {
            return .union(try branches.enumerated().map { try parse($1, namespace: namespace, named: &named, path: "\(path)[\($0)]") })
        }
        guard let object = json as? [String: Any] else { throw AvroError(.invalidSchema, "\(path): expected a type") }
        let props = properties(object)
        guard let type = object["type"] else { throw AvroError(.invalidSchema, "\(path): missing 'type'") }
        if let typeName = type as? String {
            switch typeName {
            case "record", "error":
                guard let name = object["name"] as? String else { throw AvroError(.invalidSchema, "\(path): record without a name") }
                let ns = (object["namespace"] as? String) ?? (name.contains(".") ? nil : namespace)
                let recordName = name.split(separator: ".").last.map(String.init) ?? name
                let recordNamespace = name.contains(".") ? String(name[..<name.lastIndex(of: ".")!]) : ns
                guard let fieldsJSON = object["fields"] as? [Any] else { throw AvroError(.invalidSchema, "\(path): record \(name) without fields") }
                // Register first so recursive references resolve (to a placeholder of the same name).
                named[fullName(recordName, recordNamespace)] = .record(AvroRecord(name: recordName, namespace: recordNamespace, fields: []))
                var fields: [AvroField] = []
                for (index, fieldJSON) in fieldsJSON.enumerated() {
                    guard let field = fieldJSON as? [String: Any], let fieldName = field["name"] as? String, let fieldType = field["type"] else {
                        throw AvroError(.invalidSchema, "\(path).fields[\(index)]: a field needs a name and a type")
                    }
                    var defaultJSON: String?
                    if let d = field["default"] {
                        defaultJSON = d is NSNull ? "null"
                            : String(decoding: try JSONSerialization.data(withJSONObject: d, options: [.fragmentsAllowed]), as: UTF8.self)
                    }
                    fields.append(AvroField(
                        name: fieldName,
                        type: try parse(fieldType, namespace: recordNamespace, named: &named, path: "\(path).\(fieldName)"),
                        doc: field["doc"] as? String, defaultJSON: defaultJSON, properties: properties(field)))
                }
                let record = AvroSchema.record(AvroRecord(name: recordName, namespace: recordNamespace, fields: fields, properties: props))
                named[fullName(recordName, recordNamespace)] = record
                return record
            case "enum":
                guard let name = object["name"] as? String, let symbols = object["symbols"] as? [String] else {
                    throw AvroError(.invalidSchema, "\(path): enum needs a name and symbols")
                }
                let schema = AvroSchema.enumeration(name: name, symbols: symbols)
                named[fullName(name, namespace)] = schema
                return schema
            case "array":
                guard let items = object["items"] else { throw AvroError(.invalidSchema, "\(path): array without items") }
                return .array(items: try parse(items, namespace: namespace, named: &named, path: "\(path).items"), properties: props)
            case "map":
                guard let values = object["values"] else { throw AvroError(.invalidSchema, "\(path): map without values") }
                return .map(values: try parse(values, namespace: namespace, named: &named, path: "\(path).values"), properties: props)
            case "fixed":
                guard let name = object["name"] as? String, let size = (object["size"] as? NSNumber)?.intValue, size >= 0 else {
                    throw AvroError(.invalidSchema, "\(path): fixed needs a name and a size")
                }
                let schema = AvroSchema.fixed(name: name, size: size, properties: props)
                named[fullName(name, namespace)] = schema
                return schema
            default:
                let inner = try parse(typeName, namespace: namespace, named: &named, path: path)
                return props.isEmpty ? inner : .annotated(inner, properties: props)
            }
        }
        // {"type": {...}} or {"type": [...]}: a nested declaration.
        let inner = try parse(type, namespace: namespace, named: &named, path: path)
        return props.isEmpty ? inner : .annotated(inner, properties: props)
    }
}
