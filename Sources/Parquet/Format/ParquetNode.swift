/// A field of a Parquet schema tree, the way Iceberg lays nested types out in Parquet (Iceberg spec,
/// Appendix A): structs as groups, lists as the 3-level `<name> (LIST) / list / element`, maps as
/// `<name> (MAP) / key_value / key, value`, every field with its Iceberg field id.
///
/// ```swift
/// let tags = ParquetNode.list(name: "tags", fieldID: 4, isRequired: false,
///                             element: .primitive(ParquetColumn(name: "element", fieldID: 5, type: .string)))
/// ```
package indirect enum ParquetNode: Sendable, Equatable {
    case primitive(ParquetColumn)
    case group(name: String, fieldID: Int?, isRequired: Bool, children: [ParquetNode])
    case list(name: String, fieldID: Int?, isRequired: Bool, element: ParquetNode)
    case map(name: String, fieldID: Int?, isRequired: Bool, key: ParquetNode, value: ParquetNode)

    var name: String {
        switch self {
        case .primitive(let c): c.name
        case .group(let n, _, _, _), .list(let n, _, _, _), .map(let n, _, _, _, _): n
        }
    }

    var isRequired: Bool {
        switch self {
        case .primitive(let c): c.isRequired
        case .group(_, _, let r, _), .list(_, _, let r, _), .map(_, _, let r, _, _): r
        }
    }
}

/// A leaf column of the tree: where it is and the most definition and repetition levels it can have.
package struct ParquetLeaf: Sendable, Equatable {
    package var column: ParquetColumn
    /// Names from the root's child to the leaf (`tags`, `list`, `element`).
    package var path: [String]
    package var maxDefinitionLevel: Int
    package var maxRepetitionLevel: Int
    /// Whether values can be null or repeated, so levels must be given (more than a flat optional column).
    package var needsLevels: Bool { maxRepetitionLevel > 0 || maxDefinitionLevel > 1 }
}

extension ParquetNode {
    /// The leaves under this node, in schema order.
    func leaves(path: [String] = [], definition: Int = 0, repetition: Int = 0) -> [ParquetLeaf] {
        let def = definition + (isRequired ? 0 : 1)
        let here = path + [name]
        switch self {
        case .primitive(let column):
            return [ParquetLeaf(column: column, path: here, maxDefinitionLevel: def, maxRepetitionLevel: repetition)]
        case .group(_, _, _, let children):
            return children.flatMap { $0.leaves(path: here, definition: def, repetition: repetition) }
        case .list(_, _, _, let element):
            // The repeated `list` group adds a definition and a repetition level.
            return element.renamed("element").leaves(path: here + ["list"], definition: def + 1, repetition: repetition + 1)
        case .map(_, _, _, let key, let value):
            return key.renamed("key").leaves(path: here + ["key_value"], definition: def + 1, repetition: repetition + 1)
                + value.renamed("value").leaves(path: here + ["key_value"], definition: def + 1, repetition: repetition + 1)
        }
    }

    func renamed(_ newName: String) -> ParquetNode {
        switch self {
        case .primitive(var c): c.name = newName; return .primitive(c)
        case .group(_, let id, let r, let ch): return .group(name: newName, fieldID: id, isRequired: r, children: ch)
        case .list(_, let id, let r, let e): return .list(name: newName, fieldID: id, isRequired: r, element: e)
        case .map(_, let id, let r, let k, let v): return .map(name: newName, fieldID: id, isRequired: r, key: k, value: v)
        }
    }
}
