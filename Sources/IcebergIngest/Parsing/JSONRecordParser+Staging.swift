/// The values the JSON parser's fast paths parse for flat columns, held per top-level field and appended to
/// the field's column a run at a time (``LeafBuilder/appendDefined(_:)-(UnsafeBufferPointer<Int64>)``):
/// appending to a column's arrays one value at a time costs a uniqueness check of the batch's leaves and of
/// the array per value, which was about a sixth of the parse.
///
/// Memory is raw and owned by one ``Owner``; the parser makes a fresh set at the start of a parse when a
/// copy of it shares this one (``JSONRecordParser/parse(_:isFinal:into:onBadRecord:)``), and every run is
/// appended before a parse returns, so between parses nothing is held.
struct JSONValueStaging: @unchecked Sendable {
    /// Values held per field before they go to the column.
    static let capacity = 64
    /// String bytes held per field; a longer string goes to its column directly.
    static let bytesPerField = 1024

    /// Frees the memory once no parser holds it.
    final class Owner {
        let raw: UnsafeMutableRawPointer
        init(bytes: Int) { raw = .allocate(byteCount: max(1, bytes), alignment: 16) }
        deinit { raw.deallocate() }
    }

    private(set) var owner: Owner
    /// Values held, per field.
    let counts: UnsafeMutablePointer<Int>
    /// Per field, bit `k` set when the `k`th value held is a null.
    let nulls: UnsafeMutablePointer<UInt64>
    /// String bytes held, per field.
    let byteCounts: UnsafeMutablePointer<Int>
    /// ``capacity`` 8-byte slots per field: `Int64`, `Double`, `Bool` or (strings) `Int32` lengths.
    private let values: UnsafeMutableRawPointer
    /// ``bytesPerField`` per field.
    let bytes: UnsafeMutablePointer<UInt8>

    /// Staging for the fields whose fast paths are `paths`.
    init(paths: [JSONRecordParser.FastPath]) {
        let fields = paths.count
        let header = fields * (2 * MemoryLayout<Int>.stride + MemoryLayout<UInt64>.stride)
        let slots = fields * Self.capacity * 8
        owner = Owner(bytes: header + slots + fields * Self.bytesPerField)
        let raw = owner.raw
        counts = raw.bindMemory(to: Int.self, capacity: fields)
        counts.initialize(repeating: 0, count: fields)
        byteCounts = (raw + fields * MemoryLayout<Int>.stride).bindMemory(to: Int.self, capacity: fields)
        byteCounts.initialize(repeating: 0, count: fields)
        nulls = (raw + 2 * fields * MemoryLayout<Int>.stride).bindMemory(to: UInt64.self, capacity: fields)
        nulls.initialize(repeating: 0, count: fields)
        values = raw + header
        for (field, path) in paths.enumerated() {
            let region = values + field * Self.capacity * 8
            switch path {
            case .long, .timestamp: region.bindMemory(to: Int64.self, capacity: Self.capacity)
            case .double: region.bindMemory(to: Double.self, capacity: Self.capacity)
            case .boolean: region.bindMemory(to: Bool.self, capacity: Self.capacity)
            case .string: region.bindMemory(to: Int32.self, capacity: Self.capacity)
            case .none: break
            }
        }
        bytes = (raw + header + slots).bindMemory(to: UInt8.self, capacity: fields * Self.bytesPerField)
    }

    /// Whether no other parser shares this memory (a copied parser does until one of them makes its own).
    mutating func isUnique() -> Bool { isKnownUniquelyReferenced(&owner) }

    @inline(__always) func int64s(_ field: Int) -> UnsafeMutablePointer<Int64> {
        (values + field * Self.capacity * 8).assumingMemoryBound(to: Int64.self)
    }
    @inline(__always) func doubles(_ field: Int) -> UnsafeMutablePointer<Double> {
        (values + field * Self.capacity * 8).assumingMemoryBound(to: Double.self)
    }
    @inline(__always) func booleans(_ field: Int) -> UnsafeMutablePointer<Bool> {
        (values + field * Self.capacity * 8).assumingMemoryBound(to: Bool.self)
    }
    @inline(__always) func lengths(_ field: Int) -> UnsafeMutablePointer<Int32> {
        (values + field * Self.capacity * 8).assumingMemoryBound(to: Int32.self)
    }
    @inline(__always) func stringBytes(_ field: Int) -> UnsafeMutablePointer<UInt8> {
        bytes + field * Self.bytesPerField
    }
}
