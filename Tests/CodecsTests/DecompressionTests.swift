import Foundation
import Testing
import TestSupport

@testable import Codecs

/// Compressed inputs made by Python's gzip, zstandard and pyarrow's snappy (framed and Hadoop layouts built
/// around pyarrow's raw snappy blocks), decompressed by us in odd-sized feeds.
@Suite struct DecompressionTests {
    /// The Python side: writes payload.jsonl and one file per format into the folder given as argv[1].
    static let generator = #"""
    import gzip, os, struct, sys, zstandard, pyarrow as pa
    out = sys.argv[1]
    lines = [('{"id": %d, "name": "user-%d", "tags": ["a", "b"], "ts": "2026-11-24T10:%02d:00Z"}\n' % (i, i % 977, i % 60)).encode() for i in range(6000)]
    payload = b"".join(lines)
    open(os.path.join(out, "payload.jsonl"), "wb").write(payload)
    half = len(payload) // 2
    # gzip: two members, as `cat a.gz b.gz` or an appending writer produce.
    open(os.path.join(out, "two-members.gz"), "wb").write(gzip.compress(payload[:half]) + gzip.compress(payload[half:]))
    # zstd: two frames.
    c = zstandard.ZstdCompressor(level=3)
    open(os.path.join(out, "two-frames.zst"), "wb").write(c.compress(payload[:half]) + c.compress(payload[half:]))
    snappy = pa.Codec("snappy")
    def crc32c(data):
        crc = 0xFFFFFFFF
        for b in data:
            crc ^= b
            for _ in range(8):
                crc = (crc >> 1) ^ 0x82F63B78 if crc & 1 else crc >> 1
        return crc ^ 0xFFFFFFFF
    assert crc32c(b"123456789") == 0xE3069283
    def masked(data):
        c = crc32c(data)
        return (((c >> 15) | (c << 17)) + 0xa282ead8) & 0xFFFFFFFF
    def chunk(kind, body):
        return bytes([kind]) + struct.pack("<I", len(body))[:3] + body
    framed = chunk(0xff, b"sNaPpY")
    pieces = [payload[i:i + 65536] for i in range(0, len(payload), 65536)]
    for n, piece in enumerate(pieces):
        if n == 1:
            framed += chunk(0x01, struct.pack("<I", masked(piece)) + piece)   # an uncompressed chunk
            framed += chunk(0xfe, b"\0" * 17)                                 # padding, skippable
        else:
            framed += chunk(0x00, struct.pack("<I", masked(piece)) + snappy.compress(piece, asbytes=True))
    open(os.path.join(out, "stream.sz"), "wb").write(framed)
    # Hadoop: blocks of 256 KiB uncompressed, each split into two snappy chunks.
    hadoop = b""
    for start in range(0, len(payload), 262144):
        block = payload[start:start + 262144]
        hadoop += struct.pack(">I", len(block))
        for part in (block[:100000], block[100000:]):
            if part:
                data = snappy.compress(part, asbytes=True)
                hadoop += struct.pack(">I", len(data)) + data
    open(os.path.join(out, "hadoop.snappy"), "wb").write(hadoop)
    """#

    static let files: [(name: String, format: CompressionFormat)] = [
        ("two-members.gz", .gzip), ("two-frames.zst", .zstd), ("stream.sz", .snappyFramed),
        ("hadoop.snappy", .snappyHadoop), ("payload.jsonl", .none),
    ]

    static func makeInputs() async throws -> URL {
        let dir = try TestEnvironment.temporaryDirectory("decompress")
        try await PythonTool.run(generator, arguments: [dir.path])
        return dir
    }

    static func decompress(_ bytes: [UInt8], format: CompressionFormat, feedSize: Int, name: String) throws -> [UInt8] {
        var decompressor = try format.makeDecompressor(source: name)
        var out: [UInt8] = []
        var offset = 0
        while offset < bytes.count {
            let end = min(offset + feedSize, bytes.count)
            try decompressor.feed(bytes[offset..<end]) { out.append(contentsOf: $0) }
            offset = end
        }
        try decompressor.finish { out.append(contentsOf: $0) }
        return out
    }

    @Test func detectsAndDecompressesEveryFormatInAnyFeedSize() async throws {
        let dir = try await Self.makeInputs()
        defer { TestEnvironment.cleanUp(dir) }
        let payload = try [UInt8](Data(contentsOf: dir.appendingPathComponent("payload.jsonl")))
        #expect(payload.count > 400_000)
        for (name, format) in Self.files {
            let bytes = try [UInt8](Data(contentsOf: dir.appendingPathComponent(name)))
            #expect(CompressionFormat.detect(prefix: Array(bytes.prefix(16))) == format, "\(name)")
            for feedSize in [1, 7, 4_096, 65_537, bytes.count] where feedSize > 1 || bytes.count < 200_000 {
                let out = try Self.decompress(bytes, format: format, feedSize: feedSize, name: name)
                #expect(out == payload, "\(name) fed \(feedSize) bytes at a time: \(out.count) bytes out")
            }
        }
    }

    /// libdeflate's whole-object inflate gives zlib's bytes for every member, and nil (so the caller streams)
    /// past its limit, on damage, on truncation and on bytes after the last member.
    @Test func wholeGzipMatchesStreamingOrDeclines() async throws {
        let dir = try await Self.makeInputs()
        defer { TestEnvironment.cleanUp(dir) }
        let payload = try [UInt8](Data(contentsOf: dir.appendingPathComponent("payload.jsonl")))
        let twoMembers = try [UInt8](Data(contentsOf: dir.appendingPathComponent("two-members.gz")))
        #expect(WholeGzip.decompress(twoMembers, limit: 64 << 20) == payload)
        #expect(WholeGzip.decompress(twoMembers, limit: payload.count - 1) == nil)
        #expect(WholeGzip.decompress(Array(twoMembers.dropLast(9)), limit: 64 << 20) == nil)
        #expect(WholeGzip.decompress(twoMembers + Array("trailing".utf8), limit: 64 << 20) == nil)
        var damaged = twoMembers
        damaged[damaged.count / 3] ^= 0x5a
        #expect(WholeGzip.decompress(damaged, limit: 64 << 20) == nil)
    }

    @Test func truncatedAndCorruptInputsFailNamingTheObject() async throws {
        let dir = try await Self.makeInputs()
        defer { TestEnvironment.cleanUp(dir) }
        for (name, format) in Self.files where format != .none {
            let bytes = try [UInt8](Data(contentsOf: dir.appendingPathComponent(name)))
            let truncated = Array(bytes.prefix(bytes.count - 9))
            let error = #expect(throws: CodecError.self, "\(name) truncated") {
                _ = try Self.decompress(truncated, format: format, feedSize: 10_000, name: "s3://raw/\(name)")
            }
            #expect(error?.message.contains("s3://raw/\(name)") == true)
        }
        // A flipped byte inside the first snappy chunk's data breaks its CRC-32C or its block.
        var framed = try [UInt8](Data(contentsOf: dir.appendingPathComponent("stream.sz")))
        framed[40] ^= 0x55
        #expect(throws: CodecError.self) {
            _ = try Self.decompress(framed, format: .snappyFramed, feedSize: 10_000, name: "stream.sz")
        }
        var gz = try [UInt8](Data(contentsOf: dir.appendingPathComponent("two-members.gz")))
        gz[200] ^= 0xff
        #expect(throws: CodecError.self) {
            _ = try Self.decompress(gz, format: .gzip, feedSize: 10_000, name: "two-members.gz")
        }
    }

    /// What a codec error says of the input: damage (a truncated gzip member, a flipped byte in a zstd frame)
    /// or well-formed input this reader does not take (a zstd frame made with a dictionary, written by
    /// Python's zstandard): only damage lets a run leave an object out.
    @Test func codecErrorsSayWhetherTheBytesAreDamaged() async throws {
        let dir = try await Self.makeInputs()
        defer { TestEnvironment.cleanUp(dir) }
        let gz = try [UInt8](Data(contentsOf: dir.appendingPathComponent("two-members.gz")))
        let truncated = #expect(throws: CodecError.self) { _ = try Self.decompress(Array(gz.dropLast(9)), format: .gzip, feedSize: 1_000, name: "a.gz") }
        #expect(truncated?.kind == .damaged)
        // {"id": 1}\n compressed with a trained dictionary: the frame header names the dictionary (id 0x6e3114f1).
        let withDictionary: [UInt8] = [
            0x28, 0xb5, 0x2f, 0xfd, 0x23, 0xf1, 0x14, 0x31, 0x6e, 0x0a, 0x51, 0x00, 0x00, 0x7b, 0x22, 0x69, 0x64, 0x22, 0x3a, 0x20, 0x31, 0x7d, 0x0a,
        ]
        let refused = #expect(throws: CodecError.self) { _ = try Self.decompress(withDictionary, format: .zstd, feedSize: 1_000, name: "d.zst") }
        #expect(refused?.kind == .unsupported, "\(refused?.message ?? "")")
        var flipped = withDictionary
        flipped[4] = 0x20  // no dictionary id: the frame header now disagrees with its length
        let broken = #expect(throws: CodecError.self) { _ = try Self.decompress(flipped, format: .zstd, feedSize: 1_000, name: "e.zst") }
        #expect(broken?.kind == .damaged, "\(broken?.message ?? "")")
    }

    /// Bytes after the last gzip member that are not a member: the error gives the object's offset where
    /// they start (zlib's own count restarts with each member, so it once named a byte inside member 2).
    @Test(arguments: [7, 1_000, 100_000]) func gzipTrailingGarbageIsNamedAtItsOffset(feedSize: Int) async throws {
        let dir = try await Self.makeInputs()
        defer { TestEnvironment.cleanUp(dir) }
        let gz = try [UInt8](Data(contentsOf: dir.appendingPathComponent("two-members.gz")))
        let error = #expect(throws: CodecError.self) {
            _ = try Self.decompress(gz + Array("not gzip at all".utf8), format: .gzip, feedSize: feedSize, name: "s3://raw/a.gz")
        }
        #expect(error?.message.contains("the bytes after gzip member 2 (from compressed byte \(gz.count)) are not a gzip member") == true, "\(error?.message ?? "")")
        #expect(error?.message.hasPrefix("s3://raw/a.gz: ") == true)
    }

    @Test func crc32cKnownVector() {
        let bytes = Array("123456789".utf8)
        #expect(bytes.withUnsafeBytes { Checksum.crc32c($0) } == 0xE306_9283)
    }

    @Test func plainTextIsNotMistakenForCompressedInput() {
        #expect(CompressionFormat.detect(prefix: Array(#"{"id": 1, "name": "x"}"#.utf8)) == .none)
        #expect(CompressionFormat.detect(prefix: Array("id,name,ts\n1,a,2026".utf8)) == .none)
        #expect(CompressionFormat.detect(prefix: []) == .none)
    }
}
