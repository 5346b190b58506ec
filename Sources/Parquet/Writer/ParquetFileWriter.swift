/// Writes a Parquet file from columnar batches: row groups rolled at a byte size, each column
/// dictionary-encoded while its dictionary stays small (PLAIN otherwise), pages compressed, statistics and
/// Iceberg field ids in the footer. Memory is bounded by one row group.
///
/// ```swift
/// var output = MemoryParquetOutput()
/// let writer = ParquetFileWriter(schema: schema, options: ParquetWriterOptions(), output: output)
/// try writer.write([ids, times, names])          // one ColumnData per column, same row count
/// let metrics = try writer.close()               // what Iceberg's data_file needs
/// ```
package final class ParquetFileWriter<Output: ParquetOutput> {
    package let schema: ParquetSchema
    package let options: ParquetWriterOptions
    package private(set) var output: Output
    private var position = 0
    private var pending: [[ColumnData]]
    private var pendingRows = 0
    private var pendingBytes = 0
    private var rowGroups: [(columns: [(chunk: EncodedChunk, offset: Int)], rows: Int, offset: Int)] = []
    private var metrics = ParquetFileMetrics()
    private var minMax: [(min: [UInt8]?, max: [UInt8]?)]
    private var closed = false
    private var finished = false

    package init(schema: ParquetSchema, options: ParquetWriterOptions = ParquetWriterOptions(), output: Output) {
        self.schema = schema
        self.options = options
        self.output = output
        pending = Array(repeating: [], count: schema.leaves.count)
        minMax = Array(repeating: (nil, nil), count: schema.leaves.count)
    }

    /// Bytes written so far plus the rows buffered for the current row group (uncompressed): what the file
    /// would weigh if closed now, at most. Rolling writers compare it with their target size.
    package var estimatedFileSize: Int { position + pendingBytes }

    /// Bytes held in memory for the current row group (uncompressed).
    package var bufferedBytes: Int { pendingBytes }

    /// Rows written or buffered.
    package private(set) var rowCount = 0

    private func emit(_ bytes: [UInt8]) throws {
        try output.write(bytes)
        position += bytes.count
    }

    /// Adds rows: one ColumnData per schema column, each with the same row count.
    package func write(_ columns: [ColumnData]) throws {
        precondition(!closed, "write after close")
        guard columns.count == schema.leaves.count else {
            throw ParquetError(.invalidInput, "\(columns.count) columns given, the schema has \(schema.leaves.count) leaf columns")
        }
        let rows = columns.first?.rowCount ?? 0
        for (leaf, data) in zip(schema.leaves, columns) {
            let column = leaf.column
            let path = leaf.path.joined(separator: ".")
            guard data.rowCount == rows else {
                throw ParquetError(.invalidInput, "column '\(path)' has \(data.rowCount) rows, expected \(rows)")
            }
            if let levels = data.levels {
                guard levels.repetition.isEmpty == (leaf.maxRepetitionLevel == 0),
                    levels.repetition.isEmpty || levels.repetition.count == levels.definition.count,
                    levels.definition.allSatisfy({ Int($0) <= leaf.maxDefinitionLevel }),
                    levels.repetition.allSatisfy({ Int($0) <= leaf.maxRepetitionLevel }),
                    levels.repetition.first ?? 0 == 0
                else { throw ParquetError(.invalidInput, "column '\(path)': levels do not fit its nesting (max definition \(leaf.maxDefinitionLevel), repetition \(leaf.maxRepetitionLevel))") }
                let defined = levels.definition.reduce(0) { $0 + (Int($1) == leaf.maxDefinitionLevel ? 1 : 0) }
                guard defined == data.values.count else {
                    throw ParquetError(.invalidInput, "column '\(path)': \(defined) slots are defined but \(data.values.count) values given")
                }
            } else if leaf.needsLevels {
                throw ParquetError(.invalidInput, "column '\(path)' is nested: give its definition and repetition levels")
            } else if leaf.maxDefinitionLevel == 0 && data.nullCount > 0 {
                throw ParquetError(.invalidInput, "column '\(path)' is required but has \(data.nullCount) nulls")
            }
            try Self.check(data.values, fits: column)
        }
        if position == 0 { try emit(Array("PAR1".utf8)) }
        for (i, data) in columns.enumerated() {
            pending[i].append(data)
            pendingBytes += ColumnData.byteSize(data.values)
        }
        pendingRows += rows
        rowCount += rows
        if pendingBytes >= options.rowGroupSizeBytes { try flushRowGroup() }
    }

    private static func check(_ values: ColumnData.Values, fits column: ParquetColumn) throws {
        let ok: Bool
        switch (column.type.physical, values) {
        case (.boolean, .boolean), (.int32, .int32), (.int64, .int64), (.float, .float), (.double, .double), (.byteArray, .bytes): ok = true
        case (.fixedLenByteArray, .bytes(_, let offsets)):
            let length = column.type.fixedLength ?? 0
            ok = zip(offsets, offsets.dropFirst()).allSatisfy { Int($1 - $0) == length }
        default: ok = false
        }
        guard ok else { throw ParquetError(.invalidInput, "column '\(column.name)': values do not fit \(column.type)") }
    }

    private func flushRowGroup() throws {
        guard pendingRows > 0 else { return }
        try Self.encodingEach(takeRowGroup()) { group, chunk in try writeRowGroup(group, chunk: chunk) }
    }

    /// Hands `write` the group without its batches and a chunk source that encodes each column when asked
    /// and lets its batches go then: memory holds one encoded chunk at a time, and the group's buffered rows
    /// shrink column by column (a flush and a close alike).
    private static func encodingEach<T>(
        _ group: consuming PendingRowGroup, _ write: (PendingRowGroup, (Int) throws -> EncodedChunk) throws -> T
    ) throws -> T {
        var (batches, bare) = (consume group).separatingBatches()
        return try write(bare) { i in
            defer { batches[i] = [] }
            return try bare.encode(column: i, batches: batches[i])
        }
    }

    /// The buffered rows as a row group whose columns encode independently; the buffer is empty after.
    private func takeRowGroup() -> PendingRowGroup {
        defer {
            pending = Array(repeating: [], count: schema.leaves.count)
            pendingRows = 0
            pendingBytes = 0
        }
        return PendingRowGroup(leaves: schema.leaves, options: options, columns: pending, rows: pendingRows)
    }

    /// Writes a row group's encoded chunks, taken from `chunk` in column order, and records their metrics.
    private func writeRowGroup(_ group: PendingRowGroup, chunk encodedChunk: (Int) throws -> EncodedChunk) throws {
        guard group.rows > 0 else { return }
        let groupOffset = position
        metrics.splitOffsets.append(Int64(groupOffset))
        var columns: [(EncodedChunk, Int)] = []
        for (i, leaf) in schema.leaves.enumerated() {
            let column = leaf.column
            var chunk = try encodedChunk(i)
            let offset = position
            try emit(chunk.bytes)
            // The footer needs the chunk's sizes and statistics, not its bytes: keep memory bounded by a
            // row group however large the file grows.
            chunk.compressedSize = chunk.bytes.count
            chunk.bytes = []
            columns.append((chunk, offset))
            let id = column.fieldID
            metrics.columnSizes[id, default: 0] += Int64(chunk.compressedSize)
            metrics.valueCounts[id, default: 0] += Int64(chunk.valueCount)
            metrics.nullValueCounts[id, default: 0] += Int64(chunk.nullCount)
            if column.type == .float || column.type == .double { metrics.nanValueCounts[id, default: 0] += Int64(chunk.nanCount) }
            if let lo = chunk.minPlain, minMax[i].min.map({ IcebergBounds.compare(lo, $0, type: column.type) < 0 }) ?? true { minMax[i].min = lo }
            if let hi = chunk.maxPlain, minMax[i].max.map({ IcebergBounds.compare(hi, $0, type: column.type) > 0 }) ?? true { minMax[i].max = hi }
        }
        rowGroups.append((columns.map { (chunk: $0.0, offset: $0.1) }, group.rows, groupOffset))
        metrics.recordCount += Int64(group.rows)
    }

    /// Writes the last row group and the footer; returns the Iceberg metrics.
    package func close() throws -> ParquetFileMetrics {
        try Self.encodingEach(beginClose()) { last, chunk in try finish(last, chunk: chunk) }
    }

    /// Closing in steps, for a caller that encodes the last row group's columns on several threads: this
    /// takes the buffered rows (the writer accepts no more), ``PendingRowGroup/encode(column:)`` encodes each
    /// column on any thread, and ``finishClose(_:chunks:)`` writes them and the footer.
    ///
    /// ```swift
    /// let last = writer.beginClose()
    /// let chunks = try (0..<last.columnCount).map { try last.encode(column: $0) }  // each on any thread
    /// let metrics = try writer.finishClose(last, chunks: chunks)
    /// ```
    package func beginClose() -> PendingRowGroup {
        precondition(!closed, "closed twice")
        closed = true
        return takeRowGroup()
    }

    /// Writes the last row group's chunks (one per column, in order) and the footer; returns the Iceberg metrics.
    package func finishClose(_ last: PendingRowGroup, chunks: [EncodedChunk]) throws -> ParquetFileMetrics {
        precondition(chunks.count == schema.leaves.count, "finishClose needs a chunk per column")
        // Each chunk's bytes are let go once written (the array's copy too).
        var chunks = chunks
        return try finish(last) { i in
            defer { chunks[i] = EncodedChunk() }
            return chunks[i]
        }
    }

    /// Writes the last row group, its chunks taken from `chunk` in column order, and the footer.
    private func finish(_ last: PendingRowGroup, chunk: (Int) throws -> EncodedChunk) throws -> ParquetFileMetrics {
        precondition(closed && !finished, "a file finished without beginClose, or twice")
        finished = true
        if position == 0 { try emit(Array("PAR1".utf8)) }
        try writeRowGroup(last, chunk: chunk)
        let footer = footerBytes()
        try emit(footer)
        try emit(withUnsafeBytes(of: UInt32(footer.count).littleEndian) { Array($0) } + Array("PAR1".utf8))
        metrics.fileSize = Int64(position)
        for (i, leaf) in schema.leaves.enumerated() where leaf.maxRepetitionLevel == 0 {
            // Like Java Iceberg, no bounds for values inside lists and maps.
            let column = leaf.column
            if let lo = minMax[i].min, let bound = IcebergBounds.iceberg(lo, type: column.type, isUpper: false, truncate: options.metricsTruncateLength) {
                metrics.lowerBounds[column.fieldID] = bound
            }
            if let hi = minMax[i].max, let bound = IcebergBounds.iceberg(hi, type: column.type, isUpper: true, truncate: options.metricsTruncateLength) {
                metrics.upperBounds[column.fieldID] = bound
            }
        }
        return metrics
    }

    private func footerBytes() -> [UInt8] {
        var w = ThriftCompactWriter()
        w.writeStruct { f in
            f.i32(1, 2)
            var elements: [(inout ThriftCompactWriter) -> Void] = [{ e in
                e.string(4, "schema")
                e.i32(5, Int32(self.schema.nodes.count))
            }]
            for node in schema.nodes { Self.schemaElements(node, into: &elements) }
            f.structList(2, elements) { e, body in body(&e) }
            f.i64(3, metrics.recordCount)
            f.structList(4, rowGroups) { g, group in
                g.structList(1, Array(zip(self.schema.leaves, group.columns))) { c, pair in
                    let (leaf, entry) = pair
                    let column = leaf.column
                    let chunk = entry.chunk
                    c.i64(2, Int64(entry.offset + chunk.compressedSize))
                    c.structField(3) { m in
                        m.i32(1, column.type.physical.rawValue)
                        m.i32List(2, chunk.encodings.map(\.rawValue).sorted())
                        m.stringList(3, leaf.path)
                        m.i32(4, self.options.compression.rawValue)
                        m.i64(5, Int64(chunk.valueCount))
                        m.i64(6, Int64(chunk.uncompressedSize))
                        m.i64(7, Int64(chunk.compressedSize))
                        m.i64(9, Int64(entry.offset + chunk.dataPageOffset))
                        if let d = chunk.dictionaryPageOffset { m.i64(11, Int64(entry.offset + d)) }
                        m.structField(12) { s in
                            s.i64(3, Int64(chunk.nullCount))
                            if let hi = chunk.maxPlain { s.binary(5, hi) }
                            if let lo = chunk.minPlain { s.binary(6, lo) }
                        }
                    }
                }
                g.i64(2, Int64(group.columns.reduce(0) { $0 + $1.chunk.uncompressedSize }))
                g.i64(3, Int64(group.rows))
                g.i64(5, Int64(group.offset))
                g.i64(6, Int64(group.columns.reduce(0) { $0 + $1.chunk.compressedSize }))
            }
            f.string(6, options.createdBy)
            // TypeDefinedOrder for every column, so readers trust min_value/max_value.
            f.structList(7, schema.columns) { o, _ in o.structField(1) { _ in } }
        }
        return w.bytes
    }

    /// The schema elements of `node`, depth first (Iceberg's layout of nested types in Parquet).
    private static func schemaElements(_ node: ParquetNode, into elements: inout [(inout ThriftCompactWriter) -> Void]) {
        func group(_ name: String, _ id: Int?, repetition: Int32, children: Int, converted: Int32?, logical: Int16?) {
            elements.append { e in
                e.i32(3, repetition)
                e.string(4, name)
                e.i32(5, Int32(children))
                if let converted { e.i32(6, converted) }
                if let id { e.i32(9, Int32(id)) }
                if let logical { e.structField(10) { l in l.structField(logical) { _ in } } }
            }
        }
        let repetition: Int32 = node.isRequired ? 0 : 1
        switch node {
        case .primitive(let column):
            elements.append { e in schemaElement(column, &e) }
        case .group(let name, let id, _, let children):
            group(name, id, repetition: repetition, children: children.count, converted: nil, logical: nil)
            for child in children { schemaElements(child, into: &elements) }
        case .list(let name, let id, _, let element):
            group(name, id, repetition: repetition, children: 1, converted: 3, logical: 3)
            group("list", nil, repetition: 2, children: 1, converted: nil, logical: nil)
            schemaElements(element.renamed("element"), into: &elements)
        case .map(let name, let id, _, let key, let value):
            group(name, id, repetition: repetition, children: 1, converted: 1, logical: 2)
            group("key_value", nil, repetition: 2, children: 2, converted: nil, logical: nil)
            schemaElements(key.renamed("key"), into: &elements)
            schemaElements(value.renamed("value"), into: &elements)
        }
    }

    private static func schemaElement(_ column: ParquetColumn, _ e: inout ThriftCompactWriter) {
        let type = column.type
        e.i32(1, type.physical.rawValue)
        if let length = type.fixedLength { e.i32(2, Int32(length)) }
        e.i32(3, column.isRequired ? 0 : 1)
        e.string(4, column.name)
        switch type {
        case .string: e.i32(6, 0)
        case .date: e.i32(6, 6)
        case .time: e.i32(6, 8)
        case .timestamp: e.i32(6, 10)
        case .decimal(let p, let s):
            e.i32(6, 5)
            e.i32(7, Int32(s))
            e.i32(8, Int32(p))
        default: break
        }
        e.i32(9, Int32(column.fieldID))
        switch type {
        case .string: e.structField(10) { l in l.structField(1) { _ in } }
        case .date: e.structField(10) { l in l.structField(6) { _ in } }
        case .time: e.structField(10) { l in l.structField(7) { t in t.bool(1, false); t.structField(2) { u in u.structField(2) { _ in } } } }
        case .timestamp(let utc): e.structField(10) { l in l.structField(8) { t in t.bool(1, utc); t.structField(2) { u in u.structField(2) { _ in } } } }
        case .decimal(let p, let s): e.structField(10) { l in l.structField(5) { d in d.i32(1, Int32(s)); d.i32(2, Int32(p)) } }
        case .uuid: e.structField(10) { l in l.structField(14) { _ in } }
        default: break
        }
    }
}

/// A row group's buffered columns, taken from a writer, whose columns encode independently of each other and
/// of the writer (``ParquetFileWriter/beginClose()``): safe to encode on several threads at once.
package struct PendingRowGroup: Sendable {
    let leaves: [ParquetLeaf]
    let options: ParquetWriterOptions
    /// Each column's buffered batches.
    let columns: [[ColumnData]]
    /// Rows in the group.
    package let rows: Int

    /// Columns in the group.
    package var columnCount: Int { columns.count }

    /// The uncompressed bytes buffered for `column`: a measure of its encoding work.
    package func bufferedBytes(column: Int) -> Int { columns[column].reduce(0) { $0 + ColumnData.byteSize($1.values) } }

    /// Encodes one column (its batches joined into one chunk); an empty chunk when the group has no rows
    /// (which ``ParquetFileWriter/finishClose(_:chunks:)`` does not write).
    package func encode(column: Int) throws -> EncodedChunk {
        try encode(column: column, batches: columns[column])
    }

    /// ``encode(column:)`` of `batches` given apart: a caller that took them out with ``separatingBatches()``
    /// lets each column's batches go as soon as it is encoded.
    package func encode(column: Int, batches: [ColumnData]) throws -> EncodedChunk {
        guard rows > 0 else { return EncodedChunk() }
        return try ColumnChunkEncoder(leaf: leaves[column], options: options).encode(ColumnData.concatenate(batches))
    }

    /// Each column's batches, and the group without them (its rows, for ``ParquetFileWriter/finishClose(_:chunks:)``).
    package func separatingBatches() -> (batches: [[ColumnData]], group: PendingRowGroup) {
        let batches = columns
        return (batches, PendingRowGroup(leaves: leaves, options: options, columns: Array(repeating: [], count: batches.count), rows: rows))
    }
}

extension ColumnData {
    /// The values' size in memory, uncompressed.
    static func byteSize(_ values: ColumnData.Values) -> Int {
        switch values {
        case .boolean(let a): a.count
        case .int32(let a): a.count * 4
        case .float(let a): a.count * 4
        case .int64(let a): a.count * 8
        case .double(let a): a.count * 8
        case .bytes(let b, let o): b.count + o.count * 4
        }
    }

    /// Concatenates buffered batches of one column.
    static func concatenate(_ batches: [ColumnData]) -> ColumnData {
        if batches.count == 1 { return batches[0] }
        if batches[0].levels != nil {
            var merged = concatenate(batches.map { ColumnData(values: $0.values) })
            merged = ColumnData(values: merged.values, levels: ColumnData.Levels(
                definition: batches.flatMap { $0.levels?.definition ?? [] }, repetition: batches.flatMap { $0.levels?.repetition ?? [] }))
            return merged
        }
        /// The arrays one after another, in storage sized once (`flatMap` grows it by doubling, copying again).
        func joined<T>(_ parts: [[T]]) -> [T] {
            var out: [T] = []
            out.reserveCapacity(parts.reduce(0) { $0 + $1.count })
            for part in parts { out += part }
            return out
        }
        let anyNull = batches.contains { $0.validity != nil }
        let validity: [Bool]? = anyNull ? joined(batches.map { $0.validity ?? [Bool](repeating: true, count: $0.rowCount) }) : nil
        let values: ColumnData.Values
        switch batches[0].values {
        case .boolean: values = .boolean(joined(batches.map { if case .boolean(let a) = $0.values { return a }; return [] }))
        case .int32: values = .int32(joined(batches.map { if case .int32(let a) = $0.values { return a }; return [] }))
        case .int64: values = .int64(joined(batches.map { if case .int64(let a) = $0.values { return a }; return [] }))
        case .float: values = .float(joined(batches.map { if case .float(let a) = $0.values { return a }; return [] }))
        case .double: values = .double(joined(batches.map { if case .double(let a) = $0.values { return a }; return [] }))
        case .bytes:
            var bytes: [UInt8] = []
            var (byteCount, offsetCount) = (0, 1)
            for batch in batches {
                guard case .bytes(let b, let o) = batch.values else { continue }
                byteCount += b.count
                offsetCount += max(0, o.count - 1)
            }
            // Offsets are Int32: the sums below cannot wrap.
            precondition(byteCount <= Int(Int32.max), "a row group's byte strings hold \(byteCount) bytes, more than Parquet's 32-bit offsets reach")
            bytes.reserveCapacity(byteCount)
            // Each batch's offsets after the first, moved by the bytes before it, in a plain loop (a lazy map's
            // append goes through an iterator a value at a time).
            let offsets = [Int32](unsafeUninitializedCapacity: offsetCount) { out, initialized in
                out[0] = 0
                var next = 1
                for batch in batches {
                    guard case .bytes(let b, let o) = batch.values else { continue }
                    let base = Int32(bytes.count)
                    bytes += b
                    o.withUnsafeBufferPointer { o in
                        for offset in o.dropFirst() {
                            out[next] = offset &+ base
                            next += 1
                        }
                    }
                }
                precondition(next == offsetCount)
                initialized = next
            }
            values = .bytes(bytes: bytes, offsets: offsets)
        }
        return ColumnData(values: values, validity: validity)
    }
}
