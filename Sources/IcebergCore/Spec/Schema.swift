/// A table schema: a struct type with a schema id and identifier fields (spec: "Schemas").
///
/// ```swift
/// let schema = Schema(id: 0, fields: [
///     .required(1, "id", .primitive(.long)),
///     .optional(2, "event_time", .primitive(.timestamptz)),
///     .optional(3, "payload", .struct(StructType([.optional(4, "user", .primitive(.string))]))),
/// ])
/// schema.field(named: "payload.user")?.id   // 4
/// schema.highestFieldID                      // 4
/// ```
public struct Schema: Sendable, Hashable {
    /// `schema-id`.
    public var id: Int
    /// The top-level fields.
    public var fields: [NestedField]
    /// `identifier-field-ids`: fields that identify a row (must be required primitives).
    public var identifierFieldIDs: [Int]

    public init(id: Int, fields: [NestedField], identifierFieldIDs: [Int] = []) {
        self.id = id
        self.fields = fields
        self.identifierFieldIDs = identifierFieldIDs
    }

    /// The schema as a struct type.
    public var asStruct: StructType { StructType(fields) }

    /// Every field at any depth, by id; list elements and map keys/values appear as fields named
    /// `element`, `key`, `value`.
    public var fieldsByID: [Int: NestedField] {
        var result: [Int: NestedField] = [:]
        Self.visit(fields) { field, _ in result[field.id] = field }
        return result
    }

    /// Every field at any depth, by dotted name (`payload.user`, `tags.element`).
    public var fieldsByName: [String: NestedField] {
        var result: [String: NestedField] = [:]
        Self.visit(fields) { field, name in result[name] = field }
        return result
    }

    /// The field with this id, at any depth.
    public func field(id: Int) -> NestedField? { fieldsByID[id] }

    /// The field with this dotted name, at any depth.
    public func field(named name: String) -> NestedField? { fieldsByName[name] }

    /// The dotted name of the field with this id.
    public func name(of id: Int) -> String? {
        var found: String?
        Self.visit(fields) { field, name in if field.id == id { found = name } }
        return found
    }

    /// The highest field id in use, at any depth (0 for an empty schema).
    public var highestFieldID: Int { fieldsByID.keys.max() ?? 0 }

    /// Calls `body` for every field in depth-first order with its dotted name.
    static func visit(_ fields: [NestedField], prefix: String = "", _ body: (NestedField, String) -> Void) {
        for field in fields {
            let name = prefix.isEmpty ? field.name : "\(prefix).\(field.name)"
            body(field, name)
            visit(type: field.type, name: name, body)
        }
    }

    private static func visit(type: IcebergType, name: String, _ body: (NestedField, String) -> Void) {
        switch type {
        case .primitive: break
        case .struct(let s): visit(s.fields, prefix: name, body)
        case .list(let l):
            let element = NestedField(id: l.elementID, name: "element", type: l.element, isRequired: l.elementRequired)
            body(element, "\(name).element")
            visit(type: l.element, name: "\(name).element", body)
        case .map(let m):
            body(NestedField(id: m.keyID, name: "key", type: m.key, isRequired: true), "\(name).key")
            visit(type: m.key, name: "\(name).key", body)
            body(NestedField(id: m.valueID, name: "value", type: m.value, isRequired: m.valueRequired), "\(name).value")
            visit(type: m.value, name: "\(name).value", body)
        }
    }

    /// Checks the rules every schema must follow: unique field ids, unique names among siblings,
    /// identifier fields that exist and are required primitives. Throws naming the field.
    public func validate() throws {
        var seen = Set<Int>()
        var duplicate: Int?
        Self.visit(fields) { field, _ in if !seen.insert(field.id).inserted { duplicate = field.id } }
        if let duplicate { throw IcebergError(.invalidArgument, "schema \(id): field id \(duplicate) is used twice") }
        func checkSiblings(_ fields: [NestedField], path: String) throws {
            var names = Set<String>()
            for field in fields {
                guard names.insert(field.name).inserted else {
                    throw IcebergError(.invalidArgument, "schema \(id): two fields named '\(path)\(field.name)'")
                }
                if case .struct(let s) = field.type { try checkSiblings(s.fields, path: "\(path)\(field.name).") }
            }
        }
        try checkSiblings(fields, path: "")
        let byID = fieldsByID
        for identifier in identifierFieldIDs {
            guard let field = byID[identifier] else {
                throw IcebergError(.invalidArgument, "schema \(id): identifier field id \(identifier) does not exist")
            }
            guard field.isRequired, field.type.primitive != nil, field.type.primitive != .float, field.type.primitive != .double
            else {
                throw IcebergError(
                    .invalidArgument, "schema \(id): identifier field '\(field.name)' must be a required non-floating primitive")
            }
        }
    }
}
