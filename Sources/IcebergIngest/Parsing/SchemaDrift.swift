import IcebergCore

/// What a run does when the input does not match the table's schema (Databricks Auto Loader's schema
/// evolution modes, and `fail`).
public enum DriftPolicy: String, Sendable, CaseIterable, Codable {
    /// Stop the run at the first field the table lacks, naming the file, line and field.
    case fail
    /// Leave unknown fields out (they are counted and reported in the run summary).
    case ignore
    /// Keep unknown fields, and values that do not fit their column, as a JSON object in a
    /// `_rescued_data` string column (added to the table if missing), so nothing is lost.
    case rescue
    /// Evolve the table in the same commit as the data: new optional columns with fresh field ids (nested
    /// fields too), and safe widening (int to long, decimal precision); the run's rows are parsed again
    /// under the new schema.
    case addColumns = "add-columns"
}

/// One kind of mismatch between the input and the schema, as a run saw it.
public struct DriftFinding: Sendable, Codable, Equatable {
    public enum Kind: String, Sendable, Codable { case newField = "new-field", typeMismatch = "type-mismatch", missingRequired = "missing-required" }
    public var kind: Kind
    /// The field's dotted path.
    public var field: String
    public var count: Int
    /// Up to three places it was seen: `file line N`.
    public var examples: [String]
    /// For type mismatches, what was expected and found (the first occurrence).
    public var detail: String?
}

/// The column a `rescue` policy fills.
public enum RescuedData {
    public static let column = "_rescued_data"
}

extension JSONValue {
    /// The Iceberg type a new column gets from a sample value: long, double, boolean, string, a struct for
    /// an object, a list of the first element's type for an array. Nil for null or an empty array/object
    /// (the type is not known yet).
    func inferredType(nextID: inout Int) -> IcebergType? {
        switch self {
        case .null: return nil
        case .bool: return .primitive(.boolean)
        case .int: return .primitive(.long)
        case .double: return .primitive(.double)
        case .string: return .primitive(.string)
        case .array(let items):
            guard let first = items.first(where: { $0 != .null }) else { return nil }
            let id = nextID
            nextID += 1
            guard let element = first.inferredType(nextID: &nextID) else { return nil }
            return .list(ListType(elementID: id, element: element, elementRequired: false))
        case .object(let members):
            var fields: [NestedField] = []
            for (name, value) in members {
                let id = nextID
                nextID += 1
                guard let type = value.inferredType(nextID: &nextID) else { continue }
                fields.append(NestedField(id: id, name: name, type: type, isRequired: false))
            }
            return fields.isEmpty ? nil : .struct(StructType(fields))
        }
    }

    /// Keys inside `self` (a value of a struct column of `type`) that the type lacks, as dotted paths from
    /// `path`, with a sample value each.
    func unknownKeys(of type: IcebergType, path: String, into found: inout [String: JSONValue]) {
        switch (self, type) {
        case (.object(let members), .struct(let s)):
            for (name, value) in members {
                if let field = s.fields.first(where: { $0.name == name }) {
                    value.unknownKeys(of: field.type, path: path + "." + name, into: &found)
                } else if found[path + "." + name] == nil, value != .null {
                    found[path + "." + name] = value
                }
            }
        case (.array(let items), .list(let l)):
            for item in items { item.unknownKeys(of: l.element, path: path, into: &found) }
        case (.object(let members), .map(let m)):
            for (_, value) in members { value.unknownKeys(of: m.value, path: path, into: &found) }
        default:
            break
        }
    }
}
