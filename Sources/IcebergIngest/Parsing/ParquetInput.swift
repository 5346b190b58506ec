import IcebergCore
import Parquet

/// Parquet input files: registered in the table as they are when their schema is the table's (same field
/// ids and types, timestamps in microseconds, one partition per file), rewritten otherwise (columns matched
/// by field id, else by name; int widened to long and float to double).
///
/// ```swift
/// switch try ParquetInput.read(bytes, object: object, layout: layout, spec: spec, allowRegister: true) {
/// case .register(let dataFile): append.add(dataFile)
/// case .rows(let batches): for batch in batches { try pipeline.submit(batch, source: index) }
/// }
/// ```
package enum ParquetInput {
    package enum Outcome {
        /// The file fits the table as it is: add it to the snapshot where it is.
        case register(DataFile)
        /// The rows, one batch per row group, to write into new data files.
        case rows([RecordBatch])
    }

    package static func read(
        _ bytes: [UInt8], object: SourceObject, layout: ColumnLayout, spec: PartitionSpec, allowRegister: Bool
    ) throws -> Outcome {
        let reader: ParquetFileReader
        do { reader = try ParquetFileReader(bytes: bytes, source: object.location) } catch let error as ParquetError {
            throw IngestError(.badRecord, "\(object.location) is not a readable Parquet file: \(error.message)", cause: error)
        }
        let columns = reader.metadata.columns
        if allowRegister, let file = try registrable(reader, object: object, layout: layout, spec: spec) { return .register(file) }

        // Rewrite: find each table leaf's column in the file.
        var sources: [Int?] = []
        for leaf in layout.leaves {
            let byID = columns.firstIndex { $0.fieldID == leaf.fieldID }
            let byName = columns.firstIndex { normalized($0.path) == leaf.path }
            let found = columns.contains { $0.fieldID != nil } ? byID : byName
            if found == nil, leaf.maxDefinition == 0 {
                throw IngestError(.badRecord, "\(object.location): the file has no column for required field '\(leaf.path)' (id \(leaf.fieldID))")
            }
            if let found {
                let column = columns[found]
                let leafNeedsLevels = leaf.maxRepetition > 0 || leaf.maxDefinition > 1
                guard column.maxRepetitionLevel == leaf.maxRepetition, column.isNested == leafNeedsLevels else {
                    throw IngestError(.badRecord, "\(object.location): column '\(column.path.joined(separator: "."))' is nested differently from field '\(leaf.path)'")
                }
                guard fits(column.type, into: leaf.type) else {
                    throw IngestError(.badRecord, "\(object.location): column '\(column.path.joined(separator: "."))' of type \(column.type) does not fit field '\(leaf.path)' of type \(leaf.type)")
                }
                if column.isNested, column.maxDefinitionLevel != leaf.maxDefinition {
                    throw IngestError(.badRecord, "\(object.location): column '\(column.path.joined(separator: "."))' has different optional levels from field '\(leaf.path)'")
                }
            }
            sources.append(found)
        }
        var batches: [RecordBatch] = []
        for (g, group) in reader.metadata.rowGroups.enumerated() {
            let rows = Int(group.rowCount)
            var leaves: [LeafBuilder] = []
            for (l, leaf) in layout.leaves.enumerated() {
                var builder = LeafBuilder(kind: leaf.storage, maxDefinition: leaf.maxDefinition, maxRepetition: leaf.maxRepetition)
                if let index = sources[l] {
                    let data = try reader.readColumn(index, rowGroup: g)
                    try builder.load(data, rows: rows, widen: columns[index].type, source: object.location, path: leaf.path)
                } else {
                    for _ in 0..<rows {
                        builder.beginRow()
                        builder.appendUndefined(definition: 0)
                    }
                }
                leaves.append(builder)
            }
            batches.append(RecordBatch(layout: layout, leaves: leaves, rowCount: rows))
        }
        return .rows(batches)
    }

    /// `a.list.element` → `a`, `m.key_value.key` → `m.key`: the layout's dotted form.
    static func normalized(_ path: [String]) -> String {
        path.filter { $0 != "list" && $0 != "key_value" && $0 != "array" && $0 != "bag" }.map { $0 == "item" ? "element" : $0 }.joined(separator: ".")
    }

    static func fits(_ type: ParquetValueType, into target: PrimitiveType) -> Bool {
        let exact = ColumnLayout.parquetType(target)
        if type == exact { return true }
        switch (type, target) {
        case (.int, .long), (.float, .double): return true
        case (.timestamp, .timestamp), (.timestamp, .timestamptz): return true
        default: return false
        }
    }

    /// The data file for registering the file as it is, or nil when it must be rewritten.
    static func registrable(_ reader: ParquetFileReader, object: SourceObject, layout: ColumnLayout, spec: PartitionSpec) throws -> DataFile? {
        let columns = reader.metadata.columns
        guard columns.count == layout.leaves.count else { return nil }
        for (column, leaf) in zip(columns, layout.leaves) {
            guard column.fieldID == leaf.fieldID, column.type == ColumnLayout.parquetType(leaf.type), column.timeUnit == .micros, column.storedAs == nil,
                column.maxDefinitionLevel <= leaf.maxDefinition || column.maxRepetitionLevel > 0,
                column.maxRepetitionLevel == leaf.maxRepetition, !(leaf.maxDefinition == 0 && column.maxDefinitionLevel > 0)
            else { return nil }
        }
        let metrics = try reader.metrics(fileSize: object.size)
        // One partition per file: each partition field's transform gives the same value at both bounds.
        var partition: [Literal?] = []
        for field in spec.fields {
            guard let leaf = layout.leaves.first(where: { $0.fieldID == field.sourceID }),
                (metrics.nullValueCounts[field.sourceID] ?? 1) == 0,
                let lower = metrics.lowerBounds[field.sourceID], let upper = metrics.upperBounds[field.sourceID],
                let lo = try? Literal(binary: lower, type: leaf.type), let hi = try? Literal(binary: upper, type: leaf.type)
            else { return nil }
            let a = field.transform.apply(lo), b = field.transform.apply(hi)
            // Truncated string bounds cannot prove one partition for identity/truncate; be strict.
            guard a == b, leaf.type != .string || lower == upper || field.transform != .identity else { return nil }
            partition.append(a)
        }
        return DataFile(
            filePath: object.location, fileFormat: "PARQUET", specID: spec.id, partition: partition, recordCount: metrics.recordCount,
            fileSizeInBytes: object.size, columnSizes: metrics.columnSizes, valueCounts: metrics.valueCounts, nullValueCounts: metrics.nullValueCounts,
            nanValueCounts: metrics.nanValueCounts, lowerBounds: metrics.lowerBounds, upperBounds: metrics.upperBounds, splitOffsets: metrics.splitOffsets)
    }
}

extension LeafBuilder {
    /// Loads a column read from a Parquet file (values of defined slots only) into dense storage.
    mutating func load(_ data: ColumnData, rows: Int, widen from: ParquetValueType, source: String, path: String) throws {
        let maxDef = maxDefinition
        let definitions: [UInt16]
        if let levels = data.levels {
            definitions = levels.definition
            if isRepeated {
                for (slot, rep) in levels.repetition.enumerated() where rep == 0 { rowStarts.append(Int32(slot)) }
            }
        } else if let validity = data.validity {
            definitions = validity.map { $0 ? maxDef : 0 }
        } else {
            definitions = [UInt16](repeating: maxDef, count: rows)
        }
        var next = 0
        func fail(_ why: String) -> IngestError { IngestError(.badRecord, "\(source): column for '\(path)': \(why)") }
        // The file's levels and values must agree before any is indexed by the other.
        var defined = 0
        for level in definitions {
            if level == maxDef { defined += 1 } else if level > maxDef { throw fail("definition level \(level) above the column's \(maxDef)") }
        }
        guard defined == data.values.count else { throw fail("\(defined) defined slots but \(data.values.count) values") }
        if let levels = data.levels, levels.repetition.count != levels.definition.count, isRepeated {
            throw fail("\(levels.repetition.count) repetition levels for \(levels.definition.count) definition levels")
        }
        if !isRepeated, definitions.count != rows { throw fail("\(definitions.count) slots for \(rows) rows") }
        for level in definitions {
            guard level == maxDef else {
                if maxDef == 0 { throw fail("a null in a required field") }
                appendUndefined(definition: level, repetition: 0)
                continue
            }
            switch (kind, data.values) {
            case (.boolean, .boolean(let a)): append(a[next])
            case (.int32, .int32(let a)): append(a[next])
            case (.int64, .int64(let a)): append(a[next])
            case (.int64, .int32(let a)): append(Int64(a[next]))
            case (.float, .float(let a)): append(a[next])
            case (.double, .double(let a)): append(a[next])
            case (.double, .float(let a)): append(Double(a[next]))
            case (.bytes, .bytes(let bytes, let offsets)):
                bytes.withUnsafeBufferPointer { b in append(bytes: UnsafeBufferPointer(rebasing: b[Int(offsets[next])..<Int(offsets[next + 1])])) }
            default: throw fail("values of \(from) cannot be stored as \(kind)")
            }
            next += 1
        }
        // The appends above wrote repetition 0 for every slot; put the file's levels back.
        if isRepeated, let levels = data.levels { repetition = levels.repetition }
        if !tracksDefinition { definition = [] }
    }
}
