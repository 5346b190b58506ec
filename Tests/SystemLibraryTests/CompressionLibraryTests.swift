import CSnappy
import CZlib
import CZstd
import Foundation
import Testing

/// Round trips through each compression library the formats use (zstd, snappy, zlib/gzip).
@Suite struct CompressionLibraryTests {
    /// Text that compresses well, bytes that do not, and nothing.
    enum Input: String, CaseIterable, CustomTestStringConvertible, Sendable {
        case repetitiveText, scrambledBytes, empty
        var testDescription: String { rawValue }
        var bytes: [UInt8] {
            switch self {
            case .repetitiveText: Array(String(repeating: "iceberg ingest ", count: 2_000).utf8)
            case .scrambledBytes: (0..<10_000).map { UInt8(truncatingIfNeeded: ($0 &* 2_654_435_761) >> 13) }
            case .empty: []
            }
        }
    }

    @Test(arguments: Input.allCases) func zstdRoundTrip(_ which: Input) throws {
        let input = which.bytes
        let bound = ZSTD_compressBound(input.count)
        var compressed = [UInt8](repeating: 0, count: bound)
        let written = ZSTD_compress(&compressed, bound, input, input.count, 3)
        #expect(ZSTD_isError(written) == 0)
        compressed.removeSubrange(written...)
        let frameSize = ZSTD_getFrameContentSize(compressed, compressed.count)
        #expect(frameSize == UInt64(input.count))
        var output = [UInt8](repeating: 0, count: max(input.count, 1))
        let read = ZSTD_decompress(&output, output.count, compressed, compressed.count)
        #expect(ZSTD_isError(read) == 0)
        #expect(Array(output.prefix(read)) == input)
        if which == .repetitiveText { #expect(written < input.count / 10) }
    }

    @Test(arguments: Input.allCases) func snappyRoundTrip(_ which: Input) throws {
        let input = which.bytes
        var compressedLength = snappy_max_compressed_length(input.count)
        var compressed = [UInt8](repeating: 0, count: compressedLength)
        let source = input.map { CChar(bitPattern: $0) } + [0]  // never empty, so never a nil base address
        let status = compressed.withUnsafeMutableBufferPointer { dst in
            dst.withMemoryRebound(to: CChar.self) { d in snappy_compress(source, input.count, d.baseAddress, &compressedLength) }
        }
        #expect(status == SNAPPY_OK)
        compressed.removeSubrange(compressedLength...)
        var uncompressedLength = 0
        let lengthStatus = compressed.withUnsafeBufferPointer { src in
            src.withMemoryRebound(to: CChar.self) { snappy_uncompressed_length($0.baseAddress, compressedLength, &uncompressedLength) }
        }
        #expect(lengthStatus == SNAPPY_OK)
        #expect(uncompressedLength == input.count)
        var output = [CChar](repeating: 0, count: max(uncompressedLength, 1))
        let back = compressed.withUnsafeBufferPointer { src in
            src.withMemoryRebound(to: CChar.self) { snappy_uncompress($0.baseAddress, compressedLength, &output, &uncompressedLength) }
        }
        #expect(back == SNAPPY_OK)
        #expect(output.prefix(uncompressedLength).map { UInt8(bitPattern: $0) } == input)
    }

    @Test(arguments: Input.allCases) func zlibGzipRoundTrip(_ which: Input) throws {
        let input = which.bytes
        // windowBits 31 = gzip framing, the framing Firehose's .gz objects use.
        var stream = z_stream()
        #expect(czlib_deflate_init2(&stream, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY) == Z_OK)
        var compressed = [UInt8](repeating: 0, count: Int(deflateBound(&stream, uLong(input.count))) + 32)
        var source = input
        let produced: Int = source.withUnsafeMutableBufferPointer { src in
            compressed.withUnsafeMutableBufferPointer { dst in
                stream.next_in = src.baseAddress
                stream.avail_in = uInt(src.count)
                stream.next_out = dst.baseAddress
                stream.avail_out = uInt(dst.count)
                let rc = deflate(&stream, Z_FINISH)
                #expect(rc == Z_STREAM_END)
                return Int(stream.total_out)
            }
        }
        deflateEnd(&stream)
        #expect(compressed[0] == 0x1f && compressed[1] == 0x8b)  // gzip magic

        var inflater = z_stream()
        #expect(czlib_inflate_init2(&inflater, 31) == Z_OK)
        var output = [UInt8](repeating: 0, count: input.count + 16)
        let restored: Int = compressed.withUnsafeMutableBufferPointer { src in
            output.withUnsafeMutableBufferPointer { dst in
                inflater.next_in = src.baseAddress
                inflater.avail_in = uInt(produced)
                inflater.next_out = dst.baseAddress
                inflater.avail_out = uInt(dst.count)
                #expect(inflate(&inflater, Z_FINISH) == Z_STREAM_END)
                return Int(inflater.total_out)
            }
        }
        inflateEnd(&inflater)
        #expect(Array(output.prefix(restored)) == input)
        #expect(crc32(0, input, uInt(input.count)) == crc32(0, output, uInt(restored)))
    }
}
