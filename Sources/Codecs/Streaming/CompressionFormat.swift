/// How an input object is compressed, detected from its first bytes (never from its name alone).
///
/// ```swift
/// let format = CompressionFormat.detect(prefix: firstBytes)   // .gzip for Firehose's .gz objects
/// var decompressor = try format.makeDecompressor(source: "s3://raw/events/2026/11/24/10/part.gz")
/// ```
package enum CompressionFormat: String, Sendable, CaseIterable, Codable {
    /// Not compressed.
    case none
    /// gzip (RFC 1952), possibly several concatenated members, as `cat a.gz b.gz` or Firehose produce.
    case gzip
    /// Zstandard frames (RFC 8878), possibly several.
    case zstd
    /// Snappy's framing format (stream identifier `sNaPpY`, CRC-32C per chunk), as `python-snappy -c` writes.
    case snappyFramed = "snappy-framed"
    /// Hadoop's snappy block stream: big-endian uncompressed length, then (compressed length, snappy block)
    /// pairs, as Hadoop's SnappyCodec and Firehose's "Hadoop-compatible snappy" write.
    case snappyHadoop = "snappy-hadoop"
    /// A ZIP archive (Firehose's ZIP option): each entry's bytes, inflated (``ZipStream``).
    case zip

    /// The format whose magic bytes start `prefix` (give at least the first 16 bytes). Hadoop snappy has no
    /// magic: it is recognised when the first block's lengths are plausible and the block decodes as snappy.
    package static func detect(prefix: [UInt8]) -> CompressionFormat {
        if prefix.starts(with: [0x1f, 0x8b]) { return .gzip }
        if prefix.starts(with: [0x28, 0xb5, 0x2f, 0xfd]) { return .zstd }
        if prefix.starts(with: SnappyFramedStream.streamIdentifier) { return .snappyFramed }
        if ZipStream.looksLikeZip(prefix) { return .zip }
        if HadoopSnappyStream.looksLikeHadoopSnappy(prefix) { return .snappyHadoop }
        return .none
    }

    /// A fresh streaming decompressor for this format. `source` names the object in errors.
    package func makeDecompressor(source: String) throws(CodecError) -> any StreamingDecompressor {
        switch self {
        case .none: PassthroughStream()
        case .gzip: try GzipStream(source: source)
        case .zstd: try ZstdStream(source: source)
        case .snappyFramed: SnappyFramedStream(source: source)
        case .snappyHadoop: HadoopSnappyStream(source: source)
        case .zip: ZipStream(source: source)
        }
    }
}

/// Decompresses a stream fed in chunks of any size, handing out decompressed chunks as they are ready.
/// Memory stays bounded by the chunk sizes, whatever the object's size. Damaged input throws ``CodecError``
/// naming the source and the compressed byte offset.
package protocol StreamingDecompressor {
    /// Feeds the next compressed bytes; `emit` receives decompressed bytes (possibly several times).
    mutating func feed(_ bytes: ArraySlice<UInt8>, emit: (ArraySlice<UInt8>) throws -> Void) throws
    /// Declares the end of input; throws when the stream was truncated.
    mutating func finish(emit: (ArraySlice<UInt8>) throws -> Void) throws
}

extension StreamingDecompressor {
    /// Decompresses a whole buffer at once.
    package mutating func decompressAll(_ bytes: [UInt8]) throws -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count * 4)
        try feed(bytes[...]) { out.append(contentsOf: $0) }
        try finish { out.append(contentsOf: $0) }
        return out
    }
}

/// The identity "decompressor" for uncompressed input.
package struct PassthroughStream: StreamingDecompressor {
    package init() {}
    package mutating func feed(_ bytes: ArraySlice<UInt8>, emit: (ArraySlice<UInt8>) throws -> Void) throws {
        if !bytes.isEmpty { try emit(bytes) }
    }
    package mutating func finish(emit: (ArraySlice<UInt8>) throws -> Void) throws {}
}
