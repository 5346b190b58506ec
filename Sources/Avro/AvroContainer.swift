/// Avro object container files (Avro 1.11 specification, "Object Container Files").
///
/// ```swift
/// var writer = try AvroContainerWriter(schema: schema, codec: .deflate, metadata: ["format-version": Array("2".utf8)])
/// try writer.append(.record([.string("s3://b/data/a.parquet"), .long(42)]))
/// let bytes = try writer.finish()
/// let file = try AvroContainerReader(bytes, source: "manifest.avro")
/// for record in try file.records() { ... }
/// ```
package struct AvroContainerWriter {
    package static let magic: [UInt8] = [0x4f, 0x62, 0x6a, 0x01]  // "Obj" 1

    package let schema: AvroSchema
    package let codec: AvroCodec
    private let sync: [UInt8]
    private var output: [UInt8]
    private var block = AvroEncoder()
    private var blockCount = 0
    /// Uncompressed bytes per block before it is flushed.
    package var blockSize: Int
    package private(set) var recordCount = 0

    /// - Parameter sync: the 16-byte sync marker (random by default; fixed in golden tests).
    package init(
        schema: AvroSchema, codec: AvroCodec = .deflate, metadata: [String: [UInt8]] = [:], sync: [UInt8]? = nil,
        blockSize: Int = 64 * 1024
    ) throws {
        self.schema = schema
        self.codec = codec
        self.blockSize = blockSize
        var marker = sync ?? (0..<16).map { _ in UInt8.random(in: 0...255) }
        if marker.count != 16 { marker = Array((marker + [UInt8](repeating: 0, count: 16)).prefix(16)) }
        self.sync = marker
        var header = AvroEncoder()
        header.bytes = Self.magic
        var meta = metadata
        meta["avro.schema"] = Array(schema.jsonText.utf8)
        meta["avro.codec"] = Array(codec.rawValue.utf8)
        header.writeLong(Int64(meta.count))
        for key in meta.keys.sorted() {
            header.writeString(key)
            header.writeBytes(meta[key]!)
        }
        header.writeLong(0)
        header.bytes += marker
        output = header.bytes
    }

    package mutating func append(_ record: AvroValue) throws {
        try block.write(record, as: schema)
        blockCount += 1
        recordCount += 1
        if block.bytes.count >= blockSize { try flush() }
    }

    private mutating func flush() throws {
        guard blockCount > 0 else { return }
        let payload = try codec.compress(block.bytes)
        var frame = AvroEncoder()
        frame.writeLong(Int64(blockCount))
        frame.writeLong(Int64(payload.count))
        output += frame.bytes
        output += payload
        output += sync
        block.bytes.removeAll(keepingCapacity: true)
        blockCount = 0
    }

    /// The complete file.
    package mutating func finish() throws -> [UInt8] {
        try flush()
        return output
    }
}

/// Reads an object container file: its header metadata, writer schema, and records.
package struct AvroContainerReader {
    package let schema: AvroSchema
    package let codec: AvroCodec
    package let metadata: [String: [UInt8]]
    private let bytes: [UInt8]
    private let dataStart: Int
    private let sync: [UInt8]
    let source: String

    package init(_ bytes: [UInt8], source: String) throws {
        self.bytes = bytes
        self.source = source
        guard bytes.starts(with: AvroContainerWriter.magic) else {
            throw AvroError(.corruptData, "\(source): not an Avro container file (bad magic)")
        }
        var decoder = AvroDecoder(bytes, from: 4, source: source)
        var meta: [String: [UInt8]] = [:]
        while true {
            var count = try decoder.readLong()
            if count == 0 { break }
            if count < 0 {
                guard count != Int64.min else { throw AvroError(.corruptData, "\(source): bad metadata block") }
                count = -count
                _ = try decoder.readLong()
            }
            guard count <= Int64(decoder.remaining) else { throw AvroError(.corruptData, "\(source): metadata count \(count) is impossible") }
            for _ in 0..<count { meta[try decoder.readString()] = try decoder.readBytes() }
        }
        sync = Array(try decoder.readRaw(16))
        dataStart = decoder.offset
        metadata = meta
        guard let schemaBytes = meta["avro.schema"], let schemaText = String(validating: schemaBytes, as: UTF8.self) else {
            throw AvroError(.corruptData, "\(source): header has no avro.schema")
        }
        do {
            schema = try AvroSchema(parsing: schemaText)
        } catch let error as AvroError {
            throw AvroError(error.code, "\(source): \(error.message)")
        }
        let codecName = meta["avro.codec"].map { String(decoding: $0, as: UTF8.self) } ?? "null"
        guard let codec = AvroCodec(rawValue: codecName) else {
            throw AvroError(.unsupportedCodec, "\(source): codec '\(codecName)' is not supported")
        }
        self.codec = codec
    }

    /// A metadata value as text.
    package func metadataString(_ key: String) -> String? { metadata[key].map { String(decoding: $0, as: UTF8.self) } }

    /// Every record, decoded with the writer's schema.
    package func records() throws -> [AvroValue] {
        var result: [AvroValue] = []
        try forEachRecord { result.append($0) }
        return result
    }

    /// Calls `body` with each record in file order.
    package func forEachRecord(_ body: (AvroValue) throws -> Void) throws {
        var decoder = AvroDecoder(bytes, from: dataStart, source: source)
        while !decoder.isAtEnd {
            let count = try decoder.readLong()
            let size = try decoder.readLong()
            guard count >= 0, size >= 0, size <= Int64(decoder.remaining) else {
                throw AvroError(.corruptData, "\(source): block header (count \(count), size \(size)) is impossible at byte \(decoder.offset)")
            }
            let payload = try decoder.readRaw(Int(size))
            let marker = try decoder.readRaw(16)
            guard marker.elementsEqual(sync) else {
                throw AvroError(.corruptData, "\(source): sync marker mismatch at byte \(decoder.offset - 16)")
            }
            let data = try codec.decompress(payload, limit: 256 * 1024 * 1024, source: source)
            var block = AvroDecoder(data, source: source)
            // Records of an empty schema take no bytes; anything else takes at least one.
            guard count <= Int64(data.count) + 1_000_000 else {
                throw AvroError(.corruptData, "\(source): block claims \(count) records in \(data.count) bytes")
            }
            for _ in 0..<count { try body(try block.read(schema)) }
            guard block.isAtEnd else { throw AvroError(.corruptData, "\(source): block has \(block.remaining) bytes after its records") }
        }
    }
}
