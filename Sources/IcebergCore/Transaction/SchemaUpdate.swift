/// Changes to a table's schema that keep existing data readable (spec: "Schema Evolution"): add optional
/// columns (nested too) with fresh field ids, widen types per the promotion rules, make required columns
/// optional, rename. The result is a new schema with a new id; the old one stays in the table's history.
///
/// ```swift
/// var update = SchemaUpdate(table.metadata)
/// try update.addColumn("country", .primitive(.string))
/// try update.addColumn("device.model", .primitive(.string))     // inside the struct `device`
/// try update.widen("count", to: .long)                            // int -> long
/// try update.rename("name", to: "user_name")
/// let committed = try await update.commit(table, catalog: catalog)
/// ```
public struct SchemaUpdate: Sendable {
    public let base: Schema
    public let baseLastColumnID: Int
    public private(set) var fields: [NestedField]
    public private(set) var lastColumnID: Int
    /// The changes made, for reports ("added country: string").
    public private(set) var changes: [String] = []

    public init(_ metadata: TableMetadata) {
        base = metadata.currentSchema
        baseLastColumnID = metadata.lastColumnID
        fields = base.fields
        lastColumnID = metadata.lastColumnID
    }

    public var isEmpty: Bool { changes.isEmpty }

    /// Adds an optional column at `path` (`a.b.new` adds `new` inside struct `a.b`). Ids inside `type`
    /// are replaced by fresh ones.
    public mutating func addColumn(_ path: String, _ type: IcebergType, doc: String? = nil) throws {
        var parts = path.split(separator: ".").map(String.init)
        guard let name = parts.popLast(), !name.isEmpty else { throw IcebergError(.invalidArgument, "add column: empty name") }
        // The column takes the next id, then its nested fields in order (as Java assigns them).
        let savedLastColumnID = lastColumnID
        lastColumnID += 1
        let id = lastColumnID
        let freshType = assignIDs(type)
        let field = NestedField(id: id, name: name, type: freshType, isRequired: false, doc: doc)
        do {
            try Self.modify(&fields, path: parts, fullPath: path) { siblings in
                guard !siblings.contains(where: { $0.name == name }) else {
                    throw IcebergError(.invalidArgument, "add column: '\(path)' already exists")
                }
                siblings.append(field)
            }
        } catch {
            lastColumnID = savedLastColumnID
            throw error
        }
        changes.append("added \(path): \(freshType)")
    }

    /// Widens a primitive column's type: int to long, float to double, decimal(P,S) to decimal(P2,S) with
    /// P2 >= P. Anything else is rejected naming the field.
    public mutating func widen(_ path: String, to type: PrimitiveType) throws {
        var note: String?
        try updateField(path) { field in
            guard let current = field.type.primitive else {
                throw IcebergError(.invalidArgument, "widen: '\(path)' is \(field.type), not a primitive")
            }
            guard current.canPromote(to: type) else {
                throw IcebergError(.invalidArgument, "widen: '\(path)' cannot change from \(current) to \(type) (allowed: int to long, float to double, decimal precision increase)")
            }
            if current != type { note = "widened \(path): \(current) to \(type)" }
            field.type = .primitive(type)
        }
        if let note { changes.append(note) }
    }

    /// Makes a required column optional.
    public mutating func makeOptional(_ path: String) throws {
        var wasRequired = false
        try updateField(path) { field in
            wasRequired = field.isRequired
            field.isRequired = false
        }
        if wasRequired { changes.append("made \(path) optional") }
    }

    /// Renames a column (its id, and so its data, stay).
    public mutating func rename(_ path: String, to newName: String) throws {
        let parent = path.split(separator: ".").dropLast().map(String.init)
        try Self.modify(&fields, path: parent, fullPath: path) { siblings in
            guard !siblings.contains(where: { $0.name == newName }) else {
                throw IcebergError(.invalidArgument, "rename: '\(newName)' already exists next to '\(path)'")
            }
            guard let index = siblings.firstIndex(where: { $0.name == path.split(separator: ".").last.map(String.init) }) else {
                throw IcebergError(.invalidArgument, "rename: no column '\(path)'")
            }
            siblings[index].name = newName
        }
        changes.append("renamed \(path) to \(newName)")
    }

    /// The new schema (its id is assigned when committed).
    public var schema: Schema {
        Schema(id: base.id, fields: fields, identifierFieldIDs: base.identifierFieldIDs)
    }

    /// The commit's updates and the requirements they rest on.
    public var updates: [TableUpdate] { [.addSchema(schema, lastColumnID: lastColumnID), .setCurrentSchema(-1)] }
    public var requirements: [TableRequirement] {
        [.assertCurrentSchemaID(base.id), .assertLastAssignedFieldID(baseLastColumnID)]
    }

    /// Commits the change. A conflict is surfaced (the caller decides whether to re-apply on the new schema).
    public func commit(_ table: Table, catalog: any Catalog) async throws -> Table {
        try schema.validate()
        return try await catalog.commit(table.identifier, requirements: requirements, updates: updates)
    }

    // MARK: Helpers

    private mutating func updateField(_ path: String, _ change: (inout NestedField) throws -> Void) throws {
        var parts = path.split(separator: ".").map(String.init)
        guard let name = parts.popLast() else { throw IcebergError(.invalidArgument, "empty column name") }
        try Self.modify(&fields, path: parts, fullPath: path) { siblings in
            guard let index = siblings.firstIndex(where: { $0.name == name }) else {
                throw IcebergError(.invalidArgument, "no column '\(path)' in schema \(base.id)")
            }
            try change(&siblings[index])
        }
    }

    /// Runs `change` on the fields of the struct at `path` (through list elements and map values).
    private static func modify(
        _ fields: inout [NestedField], path: [String], fullPath: String, _ change: (inout [NestedField]) throws -> Void
    ) throws {
        guard let head = path.first else { return try change(&fields) }
        guard let index = fields.firstIndex(where: { $0.name == head }) else {
            throw IcebergError(.invalidArgument, "no column '\(head)' on the way to '\(fullPath)'")
        }
        func inner(_ type: inout IcebergType, _ rest: [String]) throws {
            switch type {
            case .struct(var s):
                try modify(&s.fields, path: rest, fullPath: fullPath, change)
                type = .struct(s)
            case .list(var l) where rest.first == "element":
                try inner(&l.element, Array(rest.dropFirst()))
                type = .list(l)
            case .map(var m) where rest.first == "value":
                try inner(&m.value, Array(rest.dropFirst()))
                type = .map(m)
            default:
                throw IcebergError(.invalidArgument, "'\(fullPath)': \(head) is \(type), which has no field there")
            }
        }
        try inner(&fields[index].type, Array(path.dropFirst()))
    }

    /// Gives every nested field, element, key and value of `type` a fresh id.
    private mutating func assignIDs(_ type: IcebergType) -> IcebergType {
        switch type {
        case .primitive: return type
        case .struct(let s):
            return .struct(StructType(s.fields.map { field in
                lastColumnID += 1
                let id = lastColumnID
                return NestedField(id: id, name: field.name, type: assignIDs(field.type), isRequired: false, doc: field.doc)
            }))
        case .list(let l):
            lastColumnID += 1
            let id = lastColumnID
            return .list(ListType(elementID: id, element: assignIDs(l.element), elementRequired: l.elementRequired))
        case .map(let m):
            lastColumnID += 1
            let keyID = lastColumnID
            lastColumnID += 1
            let valueID = lastColumnID
            return .map(MapType(keyID: keyID, key: assignIDs(m.key), valueID: valueID, value: assignIDs(m.value), valueRequired: m.valueRequired))
        }
    }
}
