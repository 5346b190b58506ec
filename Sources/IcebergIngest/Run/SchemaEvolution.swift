import IcebergCore

/// The schema changes a run has decided on (policy `add-columns`) and not committed yet: they go into the
/// same commit as the data written under them.
struct SchemaEvolution {
    /// The table's metadata with the pending changes applied.
    private(set) var metadata: TableMetadata
    private(set) var updates: [TableUpdate] = []
    private(set) var requirements: [TableRequirement] = []
    private(set) var changes: [String] = []

    init(base: TableMetadata) { metadata = base }

    var schema: Schema { metadata.currentSchema }

    /// The update that new fields (with sample values) and wider values call for, or nil when the schema
    /// already holds them. A nested field whose parent is new too comes with the parent.
    func update(samples: [String: JSONValue], widenings: [String: PrimitiveType]) throws -> SchemaUpdate? {
        var update = SchemaUpdate(metadata)
        let paths = samples.keys.sorted()
        for path in paths where !Self.has(path, in: schema) {
            let parent = path.split(separator: ".").dropLast().joined(separator: ".")
            if !parent.isEmpty, !Self.has(parent, in: schema) { continue }  // added with its parent's type
            var next = 1
            guard let type = samples[path]?.inferredType(nextID: &next) else { continue }
            try update.addColumn(path, type)
        }
        for (name, wider) in widenings.sorted(by: { $0.key < $1.key }) {
            guard let field = schema.field(named: name), let current = field.type.primitive, current != wider, wider.isWider(than: current) else { continue }
            try update.widen(name, to: wider)
        }
        return update.isEmpty ? nil : update
    }

    mutating func apply(_ update: SchemaUpdate) throws {
        if updates.isEmpty { requirements = update.requirements }
        var builder = TableMetadataBuilder(base: metadata)
        for change in update.updates { try builder.apply(change) }
        metadata = builder.build(nowMillis: metadata.lastUpdatedMillis, previousMetadataLocation: nil)
        updates += update.updates
        changes += update.changes
    }

    /// Whether `path` (dotted, through list elements and map values) names a field of `schema`.
    static func has(_ path: String, in schema: Schema) -> Bool {
        var fields = schema.fields
        let parts = path.split(separator: ".").map(String.init)
        for (i, part) in parts.enumerated() {
            guard let field = fields.first(where: { $0.name == part }) else { return false }
            if i == parts.count - 1 { return true }
            var type = field.type
            while true {
                switch type {
                case .list(let l): type = l.element; continue
                case .map(let m): type = m.value; continue
                default: break
                }
                break
            }
            guard case .struct(let s) = type else { return false }
            fields = s.fields
        }
        return false
    }
}
