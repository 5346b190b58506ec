import Parquet

/// The values of one leaf column being built, one entry per slot (a row for flat columns; for columns inside
/// lists and maps, a value, a null or an empty list). Storage is dense: a slot without a value holds a
/// placeholder, so truncating a failed record and taking rows for a partition are plain array copies. The
/// placeholders are dropped when the Parquet ``ColumnData`` is made.
package struct LeafBuilder: Sendable {
    package let kind: LeafStorageKind
    let maxDefinition: UInt16
    let maxRepetition: UInt16
    package var booleans: [Bool] = []
    package var int32s: [Int32] = []
    package var int64s: [Int64] = []
    package var floats: [Float] = []
    package var doubles: [Double] = []
    package var bytes: [UInt8] = []
    /// Slot `i` is `bytes[offsets[i] ..< offsets[i + 1]]`.
    package var offsets: [Int32] = [0]
    /// Definition level per slot; empty for required flat columns (always defined), and for optional ones
    /// outside lists and maps while every slot is defined (see ``definitionLevels()``): the common case of
    /// an optional column with no nulls appends no level per value.
    package var definition: [UInt16] = []
    /// Repetition level per slot; empty for columns outside lists and maps.
    package var repetition: [UInt16] = []
    /// First slot of each row, for columns inside lists and maps; empty otherwise (slot = row).
    package var rowStarts: [Int32] = []
    /// Slots held.
    package private(set) var slotCount = 0
    /// Slots with a value (not null): tracked so that the Parquet conversion can size its arrays.
    package private(set) var definedCount = 0

    package init(kind: LeafStorageKind, maxDefinition: Int, maxRepetition: Int) {
        self.kind = kind
        self.maxDefinition = UInt16(maxDefinition)
        self.maxRepetition = UInt16(maxRepetition)
    }

    /// Whether `other` holds the same slots: values (floating point by bit pattern), levels and row starts.
    package func sameContents(as other: LeafBuilder) -> Bool {
        kind == other.kind && slotCount == other.slotCount && definedCount == other.definedCount && booleans == other.booleans
            && int32s == other.int32s && int64s == other.int64s && floats.map(\.bitPattern) == other.floats.map(\.bitPattern)
            && doubles.map(\.bitPattern) == other.doubles.map(\.bitPattern) && bytes == other.bytes && offsets == other.offsets
            && definitionLevels() == other.definitionLevels() && repetition == other.repetition && rowStarts == other.rowStarts
    }

    /// Whether every slot is defined without a level held per slot (a flat optional column with no nulls so
    /// far). With no slots both forms are the same: the first slot decides.
    @inline(__always)
    var levelsImplicit: Bool { definition.count != slotCount }

    /// The definition level of every slot (empty for a column that tracks none).
    package func definitionLevels() -> [UInt16] {
        guard tracksDefinition, levelsImplicit else { return definition }
        return [UInt16](repeating: maxDefinition, count: slotCount)
    }

    /// Whether `slot` holds a value (not a null or an empty list).
    @inline(__always)
    package func isDefined(slot: Int) -> Bool {
        !tracksDefinition || levelsImplicit || definition[slot] == maxDefinition
    }

    /// Holds a level per slot from here on (the first slot below the maximum is coming).
    private mutating func materializeLevels() {
        // In the storage the builder has (``reserve(_:)`` may have given it room).
        definition.removeAll(keepingCapacity: true)
        definition.append(contentsOf: repeatElement(maxDefinition, count: slotCount))
    }

    /// Appends `other`'s slots (a later batch of the same column) after these.
    package mutating func append(contentsOf other: LeafBuilder) {
        let byteBase = Int32(bytes.count), slotBase = Int32(slotCount)
        booleans += other.booleans
        int32s += other.int32s
        int64s += other.int64s
        floats += other.floats
        doubles += other.doubles
        bytes += other.bytes
        offsets += other.offsets.dropFirst().map { $0 + byteBase }
        if tracksDefinition, !((levelsImplicit || slotCount == 0) && (other.levelsImplicit || other.slotCount == 0)) {
            if levelsImplicit { materializeLevels() }
            definition += other.definitionLevels()
        }
        repetition += other.repetition
        rowStarts += other.rowStarts.map { $0 + slotBase }
        slotCount += other.slotCount
        definedCount += other.definedCount
    }

    /// How many values, bytes and levels a builder holds, array by array: the room to give the next one.
    package struct Room: Sendable, Equatable {
        var booleans = 0, int32s = 0, int64s = 0, floats = 0, doubles = 0, bytes = 0, offsets = 0
        var definition = 0, repetition = 0, rowStarts = 0

        /// This room times `fraction` (at most 1), rounded up.
        package func scaled(by fraction: Double) -> Room {
            guard fraction < 1 else { return self }
            func part(_ n: Int) -> Int { Int((Double(n) * max(0, fraction)).rounded(.up)) }
            return Room(
                booleans: part(booleans), int32s: part(int32s), int64s: part(int64s), floats: part(floats), doubles: part(doubles),
                bytes: part(bytes), offsets: part(offsets), definition: part(definition), repetition: part(repetition), rowStarts: part(rowStarts))
        }
    }

    /// What this builder holds, as room for the next.
    package var room: Room {
        Room(
            booleans: booleans.count, int32s: int32s.count, int64s: int64s.count, floats: floats.count, doubles: doubles.count,
            bytes: bytes.count, offsets: offsets.count, definition: definition.count, repetition: repetition.count, rowStarts: rowStarts.count)
    }

    /// Makes room in each array for `room` entries and an eighth more: a batch a little larger than the one
    /// measured (an object with a few more records, longer strings) still fits, where an exact fit would
    /// double the array for its last few values.
    package mutating func reserve(_ room: Room) {
        func roomy(_ n: Int) -> Int { n + n / 8 }
        booleans.reserveCapacity(roomy(room.booleans))
        int32s.reserveCapacity(roomy(room.int32s))
        int64s.reserveCapacity(roomy(room.int64s))
        floats.reserveCapacity(roomy(room.floats))
        doubles.reserveCapacity(roomy(room.doubles))
        bytes.reserveCapacity(roomy(room.bytes))
        offsets.reserveCapacity(roomy(room.offsets))
        definition.reserveCapacity(roomy(room.definition))
        repetition.reserveCapacity(roomy(room.repetition))
        rowStarts.reserveCapacity(roomy(room.rowStarts))
    }

    var isRepeated: Bool { maxRepetition > 0 }
    var tracksDefinition: Bool { maxDefinition > 0 }

    /// Marks the start of a row (columns inside lists and maps only need it).
    @inline(__always)
    mutating func beginRow() { if isRepeated { rowStarts.append(Int32(slotCount)) } }

    @inline(__always)
    private mutating func levels(definition level: UInt16, repetition rep: UInt16) {
        if tracksDefinition {
            if slotCount > 0, definition.count == slotCount {
                definition.append(level)
            } else if level != maxDefinition || isRepeated {
                // The first slot below the maximum (or any slot of a list's leaf): a level per slot from here.
                materializeLevels()
                definition.append(level)
            }
        }
        if isRepeated { repetition.append(rep) }
        slotCount += 1
    }

    /// A slot without a value, defined up to `level` (less than the column's maximum).
    package mutating func appendUndefined(definition level: UInt16, repetition rep: UInt16 = 0) {
        switch kind {
        case .boolean: booleans.append(false)
        case .int32: int32s.append(0)
        case .int64: int64s.append(0)
        case .float: floats.append(0)
        case .double: doubles.append(0)
        case .bytes: offsets.append(Int32(bytes.count))
        }
        levels(definition: level, repetition: rep)
    }

    @inline(__always) package mutating func append(_ v: Bool, repetition rep: UInt16 = 0) {
        booleans.append(v); definedCount += 1; levels(definition: maxDefinition, repetition: rep)
    }
    @inline(__always) package mutating func append(_ v: Int32, repetition rep: UInt16 = 0) {
        int32s.append(v); definedCount += 1; levels(definition: maxDefinition, repetition: rep)
    }
    @inline(__always) package mutating func append(_ v: Int64, repetition rep: UInt16 = 0) {
        int64s.append(v); definedCount += 1; levels(definition: maxDefinition, repetition: rep)
    }
    @inline(__always) package mutating func append(_ v: Float, repetition rep: UInt16 = 0) {
        floats.append(v); definedCount += 1; levels(definition: maxDefinition, repetition: rep)
    }
    @inline(__always) package mutating func append(_ v: Double, repetition rep: UInt16 = 0) {
        doubles.append(v); definedCount += 1; levels(definition: maxDefinition, repetition: rep)
    }
    @inline(__always) package mutating func append(bytes v: UnsafeBufferPointer<UInt8>, repetition rep: UInt16 = 0) {
        bytes.append(contentsOf: v); offsets.append(Int32(bytes.count)); definedCount += 1
        levels(definition: maxDefinition, repetition: rep)
    }
    package mutating func append(bytes v: [UInt8], repetition rep: UInt16 = 0) {
        v.withUnsafeBufferPointer { append(bytes: $0, repetition: rep) }
    }

    // Runs of values for a flat column (outside lists and maps), each slot defined: the same slots as one
    // `append` per value, with one copy per array instead of a growth and uniqueness check per value.

    package mutating func appendDefined(_ v: UnsafeBufferPointer<Bool>) { booleans.append(contentsOf: v); definedRun(v.count) }
    package mutating func appendDefined(_ v: UnsafeBufferPointer<Int64>) { int64s.append(contentsOf: v); definedRun(v.count) }
    package mutating func appendDefined(_ v: UnsafeBufferPointer<Double>) { doubles.append(contentsOf: v); definedRun(v.count) }

    /// Strings laid end to end in `v`, `lengths[k]` bytes each.
    package mutating func appendDefined(bytes v: UnsafeBufferPointer<UInt8>, lengths: UnsafeBufferPointer<Int32>) {
        var end = Int32(bytes.count)
        bytes.append(contentsOf: v)
        let first = offsets.count
        offsets.append(contentsOf: repeatElement(0, count: lengths.count))
        offsets.withUnsafeMutableBufferPointer { o in
            for k in lengths.indices {
                end += lengths[k]
                o[first + k] = end
            }
        }
        definedRun(lengths.count)
    }

    /// The levels and counts of `count` defined slots appended to a flat column, as `count` calls of
    /// ``levels(definition:repetition:)`` at the maximum leave them: a level each once levels are held.
    private mutating func definedRun(_ count: Int) {
        precondition(!isRepeated, "runs of values are for flat columns")
        if tracksDefinition, slotCount > 0, definition.count == slotCount {
            definition.append(contentsOf: repeatElement(maxDefinition, count: count))
        }
        slotCount += count
        definedCount += count
    }

    /// Drops every slot from `slot` on (undoes a record that failed half way).
    package mutating func truncate(slots slot: Int, rows: Int) {
        guard slot < slotCount || (isRepeated && rowStarts.count > rows) else { return }
        var dropped = 0
        if tracksDefinition, !levelsImplicit {
            for level in definition[slot...] where level == maxDefinition { dropped += 1 }
            definition.removeSubrange(slot...)
        } else {
            dropped = slotCount - slot
        }
        if isRepeated {
            repetition.removeSubrange(slot...)
            rowStarts.removeSubrange(rows...)
        }
        switch kind {
        case .boolean: booleans.removeSubrange(slot...)
        case .int32: int32s.removeSubrange(slot...)
        case .int64: int64s.removeSubrange(slot...)
        case .float: floats.removeSubrange(slot...)
        case .double: doubles.removeSubrange(slot...)
        case .bytes:
            bytes.removeSubrange(Int(offsets[slot])...)
            offsets.removeSubrange((slot + 1)...)
        }
        slotCount = slot
        definedCount -= dropped
    }

    /// The slots of `row` in a builder of `rowCount` rows.
    @inline(__always)
    func slots(ofRow row: Int, rowCount: Int) -> Range<Int> {
        guard isRepeated else { return row..<(row + 1) }
        let end = row + 1 < rowCount ? Int(rowStarts[row + 1]) : slotCount
        return Int(rowStarts[row])..<end
    }

    /// A builder holding only `rows` (in that order) of this one.
    package func taking(rows: [Int], rowCount: Int) -> LeafBuilder {
        var out = LeafBuilder(kind: kind, maxDefinition: Int(maxDefinition), maxRepetition: Int(maxRepetition))
        if !isRepeated {
            // Flat: one slot per row.
            switch kind {
            case .boolean: out.booleans = rows.map { booleans[$0] }
            case .int32: out.int32s = rows.map { int32s[$0] }
            case .int64: out.int64s = rows.map { int64s[$0] }
            case .float: out.floats = rows.map { floats[$0] }
            case .double: out.doubles = rows.map { doubles[$0] }
            case .bytes:
                out.offsets.reserveCapacity(rows.count + 1)
                for row in rows {
                    out.bytes.append(contentsOf: bytes[Int(offsets[row])..<Int(offsets[row + 1])])
                    out.offsets.append(Int32(out.bytes.count))
                }
            }
            if tracksDefinition, !levelsImplicit { out.definition = rows.map { definition[$0] } }
            out.slotCount = rows.count
            out.definedCount = out.levelsImplicit || !tracksDefinition ? rows.count : out.definition.reduce(0) { $0 + ($1 == maxDefinition ? 1 : 0) }
            return out
        }
        for row in rows {
            let range = slots(ofRow: row, rowCount: rowCount)
            out.rowStarts.append(Int32(out.slotCount))
            out.definition += definition[range]
            out.repetition += repetition[range]
            switch kind {
            case .boolean: out.booleans += booleans[range]
            case .int32: out.int32s += int32s[range]
            case .int64: out.int64s += int64s[range]
            case .float: out.floats += floats[range]
            case .double: out.doubles += doubles[range]
            case .bytes:
                for slot in range {
                    out.bytes.append(contentsOf: bytes[Int(offsets[slot])..<Int(offsets[slot + 1])])
                    out.offsets.append(Int32(out.bytes.count))
                }
            }
            out.slotCount += range.count
        }
        out.definedCount = out.definition.reduce(0) { $0 + ($1 == maxDefinition ? 1 : 0) }
        return out
    }

    /// Bytes held (for batch sizing).
    package var estimatedBytes: Int {
        let values: Int =
            switch kind {
            case .boolean: slotCount
            case .int32, .float: slotCount * 4
            case .int64, .double: slotCount * 8
            case .bytes: bytes.count + slotCount * 4
            }
        return values + definition.count * 2 + repetition.count * 2
    }

    /// The Parquet column: values of the defined slots only, with a validity mask or levels.
    package func columnData() -> ColumnData {
        let allDefined = definedCount == slotCount
        func compact<T>(_ array: [T]) -> [T] {
            if allDefined { return array }
            var out: [T] = []
            out.reserveCapacity(definedCount)
            for (i, level) in definition.enumerated() where level == maxDefinition { out.append(array[i]) }
            return out
        }
        let values: ColumnData.Values
        switch kind {
        case .boolean: values = .boolean(compact(booleans))
        case .int32: values = .int32(compact(int32s))
        case .int64: values = .int64(compact(int64s))
        case .float: values = .float(compact(floats))
        case .double: values = .double(compact(doubles))
        case .bytes:
            if allDefined {
                values = .bytes(bytes: bytes, offsets: offsets)
            } else {
                var data: [UInt8] = [], newOffsets: [Int32] = [0]
                data.reserveCapacity(bytes.count)
                newOffsets.reserveCapacity(definedCount + 1)
                for (i, level) in definition.enumerated() where level == maxDefinition {
                    data.append(contentsOf: bytes[Int(offsets[i])..<Int(offsets[i + 1])])
                    newOffsets.append(Int32(data.count))
                }
                values = .bytes(bytes: data, offsets: newOffsets)
            }
        }
        if isRepeated || maxDefinition > 1 {
            return ColumnData(values: values, levels: ColumnData.Levels(definition: definitionLevels(), repetition: repetition))
        }
        if maxDefinition == 1 && !allDefined {
            return ColumnData(values: values, validity: definition.map { $0 == 1 })
        }
        return ColumnData(values: values)
    }
}
