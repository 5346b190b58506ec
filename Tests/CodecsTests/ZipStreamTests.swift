import Foundation
import Testing

@testable import Codecs

/// ZIP archives built here byte by byte (local headers, data descriptors, ZIP64 extras, a central directory),
/// read in feeds of every size; the damaged ones fail naming the entry. Archives from Python's `zipfile` are
/// read end to end in `InputFormatTests`.
@Suite struct ZipStreamTests {
    struct Entry {
        var name: String
        var data: [UInt8]
        var method: UInt16 = 8
        var descriptor = false
        var zip64 = false
        var flags: UInt16 = 0
        var crc: UInt32?
    }

    static func le16(_ v: UInt16) -> [UInt8] { [UInt8(v & 0xff), UInt8(v >> 8)] }
    static func le32(_ v: UInt32) -> [UInt8] { le16(UInt16(v & 0xffff)) + le16(UInt16(v >> 16)) }
    static func le64(_ v: UInt64) -> [UInt8] { le32(UInt32(v & 0xffff_ffff)) + le32(UInt32(v >> 32)) }

    static func archive(_ entries: [Entry]) throws -> [UInt8] {
        var out: [UInt8] = []
        for e in entries {
            let body = e.method == 8 ? try Deflate.compress(e.data, framing: .raw) : e.data
            let crc = e.crc ?? Checksum.crc32(e.data)
            let flags = e.flags | (e.descriptor ? 0x08 : 0)
            let name = Array(e.name.utf8)
            let extra: [UInt8] = e.zip64 ? le16(1) + le16(16) + le64(UInt64(e.data.count)) + le64(UInt64(body.count)) : []
            let sizes: [UInt8] =
                e.descriptor ? le32(0) + le32(0) + le32(0)
                : le32(crc) + (e.zip64 ? le32(0xffff_ffff) + le32(0xffff_ffff) : le32(UInt32(body.count)) + le32(UInt32(e.data.count)))
            out += le32(0x0403_4b50) + le16(20) + le16(flags) + le16(e.method) + le32(0) + sizes
            out += le16(UInt16(name.count)) + le16(UInt16(extra.count)) + name + extra + body
            if e.descriptor {
                out += le32(0x0807_4b50) + le32(crc)
                out += e.zip64 ? le64(UInt64(body.count)) + le64(UInt64(e.data.count)) : le32(UInt32(body.count)) + le32(UInt32(e.data.count))
            }
        }
        // A central directory (its content is not read by the stream) and the end record.
        out += le32(0x0201_4b50) + [UInt8](repeating: 0, count: 42)
        out += le32(0x0605_4b50) + [UInt8](repeating: 0, count: 18)
        return out
    }

    /// Reads `bytes` in feeds of `piece` bytes: the entries' events and bytes, in order.
    static func read(_ bytes: [UInt8], piece: Int) throws -> [String] {
        let zip = ZipStream(source: "s3://raw/a.zip")
        var events: [String] = []
        var current: [UInt8] = []
        func entry(_ e: ZipStream.EntryEvent) {
            switch e {
            case .begin(let name): events.append("begin " + name)
            case .end(let name):
                events.append("end \(name) \(String(decoding: current, as: UTF8.self))")
                current = []
            }
        }
        var offset = 0
        while offset < bytes.count {
            let end = min(bytes.count, offset + piece)
            try zip.feed(bytes[offset..<end], entry: entry) { current += $0 }
            offset = end
        }
        try zip.finish(entry: entry) { current += $0 }
        return events
    }

    @Test func entriesComeOutWhole() throws {
        let text = (0..<3000).map { "{\"id\": \($0)}\n" }.joined()
        let bytes = try Self.archive([
            Entry(name: "a.jsonl", data: Array(text.utf8)),
            Entry(name: "dir/", data: [], method: 0),
            Entry(name: "b.jsonl", data: Array("x\ny".utf8), method: 0),
            Entry(name: "c.jsonl", data: Array(text.utf8), descriptor: true),
            Entry(name: "d.jsonl", data: Array("zip64\n".utf8), descriptor: true, zip64: true),
            Entry(name: "e.jsonl", data: Array("sized zip64\n".utf8), zip64: true),
        ])
        let want = [
            "begin a.jsonl", "end a.jsonl \(text)", "begin dir/", "end dir/ ", "begin b.jsonl", "end b.jsonl x\ny",
            "begin c.jsonl", "end c.jsonl \(text)", "begin d.jsonl", "end d.jsonl zip64\n", "begin e.jsonl", "end e.jsonl sized zip64\n",
        ]
        for piece in [1, 7, 30, 4096, bytes.count] {
            #expect(try Self.read(bytes, piece: piece) == want, "feeds of \(piece) bytes")
        }
        #expect(CompressionFormat.detect(prefix: Array(bytes.prefix(16))) == .zip)
        var stream = try CompressionFormat.zip.makeDecompressor(source: "a.zip")
        #expect(try stream.decompressAll(bytes) == Array((text + "x\ny" + text + "zip64\nsized zip64\n").utf8))
        // Many small entries in one feed: only headers are copied, never the rest of the chunk per entry.
        let many = try Self.archive((0..<20_000).map { Entry(name: "e\($0)", data: [UInt8(ascii: "x")], method: 0) })
        #expect(try Self.read(many, piece: many.count).count == 40_000)
        // An archive with no entries (just its end record) is empty, not an error.
        let empty = Self.le32(0x0605_4b50) + [UInt8](repeating: 0, count: 18)
        #expect(CompressionFormat.detect(prefix: empty) == .zip)
        #expect(try Self.read(empty, piece: 5) == [])
    }

    @Test func damagedArchivesNameTheEntry() throws {
        let data = Array((0..<500).map { "line \($0)\n" }.joined().utf8)
        func failure(_ bytes: [UInt8]) -> String {
            do {
                _ = try Self.read(bytes, piece: 100)
                return "no error"
            } catch let error as CodecError { return error.message } catch { return "\(error)" }
        }
        #expect(failure(try Self.archive([Entry(name: "ok", data: data), Entry(name: "crc.txt", data: data, crc: 1234)])).contains("'crc.txt'"))
        #expect(failure(try Self.archive([Entry(name: "crc.txt", data: data, crc: 1234)])).contains("CRC-32"))
        #expect(failure(try Self.archive([Entry(name: "secret.txt", data: data, flags: 1)])).contains("'secret.txt' is encrypted"))
        #expect(failure(try Self.archive([Entry(name: "b.bz2", data: data, method: 12)])).contains("method 12"))
        #expect(failure(try Self.archive([Entry(name: "s.txt", data: data, method: 0, descriptor: true)])).contains("'s.txt' is stored with its size after"))
        let whole = try Self.archive([Entry(name: "cut.txt", data: data)])
        #expect(failure(Array(whole.prefix(60))).contains("truncated inside entry 'cut.txt'"))
        #expect(failure(Array(whole.prefix(whole.count - 68))).contains("without its central directory"))
        var flipped = whole
        flipped[45] ^= 0xff
        #expect(failure(flipped).contains("'cut.txt'"))
        #expect(failure(Array("PK\u{3}\u{4}".utf8) + [UInt8](repeating: 0x41, count: 26) + Array("not a zip".utf8)) != "no error")
    }
}
