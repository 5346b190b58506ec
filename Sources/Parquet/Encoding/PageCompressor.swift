import Codecs

/// Compresses and decompresses page bodies.
enum PageCompressor {
    static func compress(_ data: [UInt8], _ codec: ParquetCompression, zstdLevel: Int32) throws -> [UInt8] {
        do {
            switch codec {
            case .uncompressed: return data
            case .snappy: return try Snappy.compress(data)
            case .zstd: return try Zstd.compress(data, level: zstdLevel)
            case .gzip: return try Deflate.compress(data, framing: .gzip)
            }
        } catch {
            throw ParquetError(.io, "\(codec.name) compression failed: \(error.message)")
        }
    }

    /// Decompresses a page to exactly `size` bytes.
    static func decompress(_ data: ArraySlice<UInt8>, _ codec: ParquetCompression, size: Int, source: String) throws -> [UInt8] {
        func corrupt(_ what: String) -> ParquetError { ParquetError(.corruptFile, "\(source): \(codec.name) page: \(what)") }
        guard size >= 0, size <= 1 << 30 else { throw corrupt("impossible page size \(size)") }
        do {
            switch codec {
            case .uncompressed:
                guard data.count == size else { throw corrupt("size \(data.count), expected \(size)") }
                return Array(data)
            case .snappy:
                return try Snappy.decompress(data, limit: size, exactSize: size)
            case .zstd:
                return try Zstd.decompress(data, size: size)
            case .gzip:
                return try Deflate.inflate(data, framing: .gzipOrZlib, limit: size, exactSize: size)
            }
        } catch let error as CodecError {
            // Only damaged bytes make the file corrupt; a codec that could not get its memory says nothing of it.
            switch error.kind {
            case .damaged: throw corrupt(error.message)
            case .unsupported: throw ParquetError(.unsupported, "\(source): \(codec.name) page: \(error.message)")
            case .resources: throw ParquetError(.io, "\(source): \(codec.name) page: \(error.message)")
            }
        }
    }
}
