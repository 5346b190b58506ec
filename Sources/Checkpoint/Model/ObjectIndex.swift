import Codecs
import Foundation

/// The set of ingested objects inside the open window, held compactly: keys and ETags in byte arenas,
/// numbers in parallel arrays, and an open-addressing hash table of row numbers. A million objects take
/// about 150 MB here, against twice that as a `[String: IngestedObject]`.
struct ObjectIndex: Sendable, Equatable {
    private(set) var keyBytes: [UInt8] = []
    /// Row `i`'s key is `keyBytes[keyEnds[i-1] ..< keyEnds[i]]` (with `keyEnds[-1]` taken as 0).
    private(set) var keyEnds: [Int] = []
    private(set) var etagBytes: [UInt8] = []
    private(set) var etagEnds: [Int] = []
    private(set) var sizes: [Int64] = []
    private(set) var lastModified: [Int64] = []
    private(set) var snapshotIDs: [Int64] = []
    private(set) var hours: [Int32] = []
    /// Slots hold row + 1; 0 is empty. Capacity is a power of two at least twice the row count.
    private var slots: [Int32] = []

    var count: Int { keyEnds.count }

    init() {}

    /// Rebuilds an index from its columns (as decoded from a checkpoint file), checking they agree.
    init(
        keyBytes: [UInt8], keyEnds: [Int], etagBytes: [UInt8], etagEnds: [Int], sizes: [Int64],
        lastModified: [Int64], snapshotIDs: [Int64], hours: [Int32]
    ) throws(CheckpointError) {
        let n = keyEnds.count
        guard etagEnds.count == n, sizes.count == n, lastModified.count == n, snapshotIDs.count == n, hours.count == n,
            Self.monotonic(keyEnds, limit: keyBytes.count), Self.monotonic(etagEnds, limit: etagBytes.count)
        else { throw CheckpointError(.corrupt, "object index columns disagree in length or offsets") }
        self.keyBytes = keyBytes
        self.keyEnds = keyEnds
        self.etagBytes = etagBytes
        self.etagEnds = etagEnds
        self.sizes = sizes
        self.lastModified = lastModified
        self.snapshotIDs = snapshotIDs
        self.hours = hours
        if let duplicate = rebuildSlots() {
            throw CheckpointError(.corrupt, "object index holds the key '\(key(at: duplicate))' twice")
        }
    }

    private static func monotonic(_ ends: [Int], limit: Int) -> Bool {
        var previous = 0
        for end in ends {
            guard end >= previous else { return false }
            previous = end
        }
        return previous == limit
    }

    // MARK: Rows

    private func keyRange(_ row: Int) -> Range<Int> { (row == 0 ? 0 : keyEnds[row - 1])..<keyEnds[row] }
    private func etagRange(_ row: Int) -> Range<Int> { (row == 0 ? 0 : etagEnds[row - 1])..<etagEnds[row] }

    func key(at row: Int) -> String { String(decoding: keyBytes[keyRange(row)], as: UTF8.self) }

    func object(at row: Int) -> IngestedObject {
        IngestedObject(
            version: ObjectVersion(
                key: key(at: row), size: sizes[row], etag: String(decoding: etagBytes[etagRange(row)], as: UTF8.self),
                lastModifiedMillis: lastModified[row]),
            hour: hours[row], snapshotID: snapshotIDs[row])
    }

    /// The recorded object with this key, if any.
    func lookup(_ key: String) -> IngestedObject? {
        var key = key
        return key.withUTF8 { utf8 in find(utf8) }.map(object(at:))
    }

    /// Whether the recorded object with this key has exactly this size and ETag (no allocation).
    func matches(row: Int, size: Int64, etag: String) -> Bool {
        guard sizes[row] == size else { return false }
        let range = etagRange(row)
        var etag = etag
        return etag.withUTF8 { utf8 in
            utf8.count == range.count
                && etagBytes.withUnsafeBytes { arena in
                    utf8.count == 0 || memcmp(arena.baseAddress! + range.lowerBound, utf8.baseAddress!, utf8.count) == 0
                }
        }
    }

    func row(of key: String) -> Int? {
        var key = key
        return key.withUTF8 { find($0) }
    }

    /// Records `object`, replacing an earlier record of the same key.
    mutating func insert(_ object: IngestedObject) {
        var key = object.version.key
        if let row = key.withUTF8({ find($0) }) {
            // Replace in place: append the new ETag; the arena keeps the old bytes until the next compaction.
            if !matches(row: row, size: object.version.size, etag: object.version.etag) || snapshotIDs[row] != object.snapshotID {
                var rows = Array(0..<count)
                rows.remove(at: row)
                self = filtered(rows: rows)
                insert(object)
            }
            return
        }
        key.withUTF8 { keyBytes.append(contentsOf: $0) }
        keyEnds.append(keyBytes.count)
        var etag = object.version.etag
        etag.withUTF8 { etagBytes.append(contentsOf: $0) }
        etagEnds.append(etagBytes.count)
        sizes.append(object.version.size)
        lastModified.append(object.version.lastModifiedMillis)
        snapshotIDs.append(object.snapshotID)
        hours.append(object.hour)
        if slots.count < 2 * count {
            rebuildSlots()
        } else {
            place(row: count - 1)
        }
    }

    /// A new index holding only the rows for which `keep` is true (in their order).
    func filtered(where keep: (Int32) -> Bool) -> ObjectIndex {
        filtered(rows: (0..<count).filter { keep(hours[$0]) })
    }

    private func filtered(rows: [Int]) -> ObjectIndex {
        var result = ObjectIndex()
        result.keyEnds.reserveCapacity(rows.count)
        for row in rows {
            result.keyBytes.append(contentsOf: keyBytes[keyRange(row)])
            result.keyEnds.append(result.keyBytes.count)
            result.etagBytes.append(contentsOf: etagBytes[etagRange(row)])
            result.etagEnds.append(result.etagBytes.count)
            result.sizes.append(sizes[row])
            result.lastModified.append(lastModified[row])
            result.snapshotIDs.append(snapshotIDs[row])
            result.hours.append(hours[row])
        }
        result.rebuildSlots()
        return result
    }

    // MARK: Hashing

    private static func hash(_ bytes: UnsafeRawBufferPointer) -> UInt64 {
        let h = FNV1a64.hash(bytes)
        return h ^ (h >> 29)
    }

    /// Rebuilds the hash table; returns a row whose key an earlier row already has, if any.
    @discardableResult
    private mutating func rebuildSlots() -> Int? {
        var capacity = 16
        while capacity < 2 * max(count, 1) { capacity <<= 1 }
        slots = [Int32](repeating: 0, count: capacity)
        var duplicate: Int?
        for row in 0..<count where !place(row: row) { duplicate = duplicate ?? row }
        return duplicate
    }

    /// Puts `row` in the hash table; false when a row with the same key is there already.
    @discardableResult
    private mutating func place(row: Int) -> Bool {
        let range = keyRange(row)
        let (slot, existing) = keyBytes.withUnsafeBytes { probe(UnsafeRawBufferPointer(rebasing: $0[range])) }
        guard existing == nil else { return false }
        slots[slot] = Int32(row + 1)
        return true
    }

    /// The row whose key has exactly these bytes.
    private func find(_ key: UnsafeRawBufferPointer) -> Int? {
        slots.isEmpty ? nil : probe(key).row
    }

    /// Linear probing from the key's hash: the row holding `key` and its slot, or the empty slot where it
    /// would go.
    private func probe(_ key: UnsafeRawBufferPointer) -> (slot: Int, row: Int?) {
        let h = Self.hash(key)
        return keyBytes.withUnsafeBytes { arena in
            keyEnds.withUnsafeBufferPointer { ends in
                slots.withUnsafeBufferPointer { slots in
                    let mask = slots.count - 1
                    var slot = Int(truncatingIfNeeded: h) & mask
                    while slots[slot] != 0 {
                        let row = Int(slots[slot]) - 1
                        let start = row == 0 ? 0 : ends[row - 1]
                        if ends[row] - start == key.count
                            && (key.count == 0 || memcmp(arena.baseAddress! + start, key.baseAddress!, key.count) == 0)
                        {
                            return (slot, row)
                        }
                        slot = (slot + 1) & mask
                    }
                    return (slot, nil)
                }
            }
        }
    }

    private func find(_ utf8: UnsafeBufferPointer<UInt8>) -> Int? { find(UnsafeRawBufferPointer(utf8)) }

    private func find(_ key: Range<Int>) -> Int? {
        keyBytes.withUnsafeBytes { find(UnsafeRawBufferPointer(rebasing: $0[key])) }
    }

    static func == (a: ObjectIndex, b: ObjectIndex) -> Bool {
        a.keyBytes == b.keyBytes && a.keyEnds == b.keyEnds && a.etagBytes == b.etagBytes && a.etagEnds == b.etagEnds
            && a.sizes == b.sizes && a.lastModified == b.lastModified && a.snapshotIDs == b.snapshotIDs
            && a.hours == b.hours
    }
}

extension ObjectIndex {
    /// Bytes held by the index's arrays (their capacities), the bulk of a checkpoint's memory.
    var footprintBytes: Int {
        keyBytes.capacity + etagBytes.capacity + 8 * (keyEnds.capacity + etagEnds.capacity + sizes.capacity
            + lastModified.capacity + snapshotIDs.capacity) + 4 * (hours.capacity + slots.capacity)
    }
}
