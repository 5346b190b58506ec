import Codecs

/// Block compression of object container files (`avro.codec`).
package enum AvroCodec: String, Sendable, CaseIterable {
    case null
    /// Raw deflate (RFC 1951), no zlib header.
    case deflate
    /// A snappy block followed by the big-endian CRC-32 of the uncompressed data.
    case snappy
    case zstandard

    package func compress(_ data: [UInt8], level: Int32? = nil) throws -> [UInt8] {
        do {
            switch self {
            case .null: return data
            case .deflate: return try Deflate.compress(data, framing: .raw, level: level ?? -1)
            case .snappy:
                let crc = Checksum.crc32(data)
                return try Snappy.compress(data) + [UInt8(crc >> 24), UInt8(truncatingIfNeeded: crc >> 16), UInt8(truncatingIfNeeded: crc >> 8), UInt8(truncatingIfNeeded: crc)]
            case .zstandard: return try Zstd.compress(data, level: level ?? 3)
            }
        } catch {
            throw AvroError(.corruptData, "\(rawValue) compression: \(error.message)")
        }
    }

    /// Decompresses a block; `limit` caps the output so a corrupt block cannot exhaust memory.
    package func decompress(_ data: ArraySlice<UInt8>, limit: Int, source: String) throws -> [UInt8] {
        func corrupt(_ what: String) -> AvroError { AvroError(.corruptData, "\(source): \(rawValue) block: \(what)") }
        do {
            switch self {
            case .null: return Array(data)
            case .deflate: return try Deflate.inflate(data, framing: .raw, limit: limit)
            case .snappy:
                guard data.count >= 4 else { throw corrupt("shorter than its checksum") }
                let out = try Snappy.decompress(data.dropLast(4), limit: limit)
                let tail = Array(data.suffix(4))
                let stored = UInt32(tail[0]) << 24 | UInt32(tail[1]) << 16 | UInt32(tail[2]) << 8 | UInt32(tail[3])
                guard Checksum.crc32(out) == stored else { throw corrupt("CRC-32 mismatch") }
                return out
            case .zstandard: return try Zstd.decompress(data, limit: limit)
            }
        } catch let error as CodecError {
            // Only damaged bytes make the data corrupt: a codec that refuses the block or lacks memory says
            // nothing of it.
            guard error.kind == .damaged else { throw AvroError(.unsupportedCodec, "\(source): \(rawValue) block: \(error.message)") }
            throw corrupt(error.message)
        }
    }
}
