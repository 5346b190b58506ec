/// JSON form of types and schemas (spec Appendix C).
extension IcebergType {
    var json: JSONValue {
        switch self {
        case .primitive(let p): .string(p.description)
        case .struct(let s): .object([("type", .string("struct")), ("fields", .array(s.fields.map(\.json)))])
        case .list(let l):
            .object([
                ("type", .string("list")), ("element-id", .int(Int64(l.elementID))), ("element", l.element.json),
                ("element-required", .bool(l.elementRequired)),
            ])
        case .map(let m):
            .object([
                ("type", .string("map")), ("key-id", .int(Int64(m.keyID))), ("key", m.key.json),
                ("value-id", .int(Int64(m.valueID))), ("value", m.value.json), ("value-required", .bool(m.valueRequired)),
            ])
        }
    }

    init(json: JSONReader) throws {
        if case .string(let name) = json.value {
            do {
                self = .primitive(try PrimitiveType(parsing: name))
            } catch {
                throw json.error("unknown type '\(name)'")
            }
            return
        }
        switch try json.required("type").string {
        case "struct":
            self = .struct(StructType(try json.required("fields").array.map(NestedField.init(json:))))
        case "list":
            self = .list(
                ListType(
                    elementID: try json.required("element-id").int, element: try IcebergType(json: json.required("element")),
                    elementRequired: try json.required("element-required").bool))
        case "map":
            self = .map(
                MapType(
                    keyID: try json.required("key-id").int, key: try IcebergType(json: json.required("key")),
                    valueID: try json.required("value-id").int, value: try IcebergType(json: json.required("value")),
                    valueRequired: try json.required("value-required").bool))
        case let other:
            throw json.error("unknown nested type '\(other)'")
        }
    }
}

extension NestedField {
    var json: JSONValue {
        var pairs: [(String, JSONValue)] = [
            ("id", .int(Int64(id))), ("name", .string(name)), ("required", .bool(isRequired)), ("type", type.json),
        ]
        if let doc { pairs.append(("doc", .string(doc))) }
        return .object(pairs)
    }

    init(json: JSONReader) throws {
        self.init(
            id: try json.required("id").int, name: try json.required("name").string,
            type: try IcebergType(json: json.required("type")), isRequired: try json.required("required").bool,
            doc: try json.optional("doc")?.string)
    }
}

extension Schema {
    /// The schema's JSON object: `{"type":"struct","schema-id":..,"identifier-field-ids":[..],"fields":[..]}`.
    public var json: JSONValue {
        var pairs: [(String, JSONValue)] = [("type", .string("struct")), ("schema-id", .int(Int64(id)))]
        if !identifierFieldIDs.isEmpty {
            pairs.append(("identifier-field-ids", .array(identifierFieldIDs.map { .int(Int64($0)) })))
        }
        pairs.append(("fields", .array(fields.map(\.json))))
        return .object(pairs)
    }

    /// Parses a schema JSON object (as in table metadata, or a user's schema file).
    public init(json: JSONValue, source: String = "schema") throws {
        try self.init(json: JSONReader(json, source: source))
    }

    init(json: JSONReader, defaultID: Int = 0) throws {
        self.init(
            id: try json.optional("schema-id")?.int ?? defaultID,
            fields: try json.required("fields").array.map(NestedField.init(json:)),
            identifierFieldIDs: try json.optional("identifier-field-ids")?.array.map { try $0.int } ?? [])
    }
}
