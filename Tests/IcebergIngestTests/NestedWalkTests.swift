import Foundation
import IcebergCore
import Testing

@testable import IcebergIngest

/// Struct and list values go from the bytes into the leaves in one walk; anything unusual is left to the
/// tree path. The two must agree on every record: rows, levels, values, bad records and drift.
@Suite struct NestedWalkTests {
    static let schema = try! SchemaText.schema(
        "id long not null, tags list<string>, user struct<name string, age int, ok boolean>, attrs map<string, long>, "
            + "deep list<struct<k string, v list<double>>>, req struct<a long not null, t timestamptz>, price decimal(10,2)")

    /// Records the walk takes whole (no fallback), and ones it must leave to the tree path.
    static let plain = [
        #"{"id": 1, "tags": ["a", "b"], "user": {"name": "ann", "age": 31, "ok": true}, "deep": [{"k": "x", "v": [1.5, 2]}], "req": {"a": 7, "t": "2026-11-24T10:15:30.123456Z"}}"#,
        #"{"id": 2, "tags": [], "user": {}, "deep": [], "req": {"a": -1}}"#,
        #"{"id": 3, "tags": null, "user": null, "deep": null, "req": null}"#,
        #"{"id": 4, "tags": [null, "c"], "user": {"age": null, "name": "bo"}, "deep": [null, {"v": []}, {"k": null, "v": [null, 3e2]}]}"#,
        "{\"id\": 5,\t\"tags\" :[ \"d\" ,\"e\" ] ,\r\n\"user\":{ \"ok\" : false , \"name\":\"\" } }",
        #"{"id": 6, "user": {"name": "x", "age": 0, "ok": false}, "req": {"t": 1764000000, "a": 9223372036854775807}}"#,
    ]
    static let unusual = [
        #"{"id": 10, "user": {"name": "a", "nick": "b"}}"#,  // a key the struct lacks: drift
        #"{"id": 11, "user": {"name": "a", "name": "b"}}"#,  // a key twice
        #"{"id": 12, "tags": [1, 2.50, -0]}"#,  // numbers into a string list
        #"{"id": 13, "tags": ["caf\u00e9", "tab\t"]}"#,  // escapes
        #"{"id": 14, "user": {"age": 01}}"#,  // not a JSON number
        #"{"id": 15, "user": {"age": "many"}}"#,  // does not fit
        #"{"id": 16, "tags": ["a",]}"#,  // trailing comma
        #"{"id": 17, "req": {"t": "2026-11-24"}}"#,  // a required child missing
        #"{"id": 18, "deep": [{"k": "x", "v": [1, [2]]}]}"#,  // an array where a double should be
        #"{"id": 19, "user": {"age": 99999999999}}"#,  // too big for an int
        #"{"id": 20, "user": [1]}"#,  // an array where an object should be
        #"{"id": 21, "tags": "a"}"#,  // a string where a list should be
        "{\"id\": 22, \"user\": {\"name\": \"\u{01}\"}}",  // a control byte in a string
        "{\"id\": 23, \"user\": {\u{01}\"name\": \"a\"}}",  // a control byte between tokens
        #"{"id": 24, "attrs": {"a": 1, "b": null}}"#,  // maps take the tree path
        #"{"id": 25, "user": {"age": 1.5e1}}"#,
        #"{"id": 26, "user": {"ok": tru}}"#,
        #"{"id": 27, "req": {"a": null}}"#,
        #"{"id": 28, "tags": ["a" "b"]}"#,
        #"{"id": 29, "user": {"name": "a" , }}"#,
        #"{"id": 30, "deep": [{"k": "x"}, {"k": "y", "k": "z"}]}"#,
    ]

    struct Result {
        var batch: RecordBatch
        var bad: [String]
        var counts: ParseCounts
        var walks: Int
        var drift: [String]
    }

    static func parse(_ text: String, walk: Bool, drift: DriftPolicy, chunk: Int = Int.max) throws -> Result {
        try parse(text, schema: schema, drift: drift, chunk: chunk) { $0.walksNestedValues = walk }
    }

    /// `text` through a JSON parser of `schema` set up by `configure`, fed `chunk` bytes at a time.
    static func parse(_ text: String, schema: Schema, drift: DriftPolicy, chunk: Int, configure: (inout JSONRecordParser) -> Void) throws -> Result {
        let layout = try ColumnLayout(schema: schema)
        var parser = JSONRecordParser(layout: layout, options: ConversionOptions(), source: "in.json", drift: drift)
        configure(&parser)
        var batch = RecordBatch(layout: layout)
        var bad: [String] = []
        try RecordParserTests.feed(text, chunk: chunk) { buffer, isFinal in
            try parser.parse(buffer, isFinal: isFinal, into: &batch) { bad.append($0.description) }
        }
        let found = parser.drift.unknownFields.map { "\($0.key) \($0.value)" }.sorted() + parser.drift.samples.map { "\($0.key) \($0.value)" }.sorted()
            + parser.drift.widenings.map { "\($0.key) \($0.value)" }.sorted()
        return Result(batch: batch, bad: bad, counts: parser.counts, walks: parser.directNestedValues, drift: found)
    }

    static func expectSame(_ a: Result, _ b: Result, _ what: String) {
        #expect(a.bad == b.bad, "\(what): bad records")
        #expect(a.counts.rows == b.counts.rows && a.counts.badRecords == b.counts.badRecords, "\(what): counts")
        #expect(a.drift == b.drift, "\(what): drift")
        #expect(a.batch.rowCount == b.batch.rowCount, "\(what): rows")
        for (leaf, (x, y)) in zip(a.batch.leaves, b.batch.leaves).enumerated() {
            #expect(x.sameContents(as: y), "\(what): leaf \(a.batch.layout.leaves[leaf].path)")
        }
    }

    @Test(arguments: [DriftPolicy.ignore, .rescue, .addColumns])
    func theWalkAgreesWithTheTreePath(_ drift: DriftPolicy) throws {
        let text = (Self.plain + Self.unusual).joined(separator: "\n")
        for chunk in [Int.max, 7, 64] {
            let walked = try Self.parse(text, walk: true, drift: drift, chunk: chunk)
            let tree = try Self.parse(text, walk: false, drift: drift, chunk: chunk)
            Self.expectSame(walked, tree, "drift \(drift), chunks of \(chunk)")
            #expect(tree.walks == 0)
        }
        // The plain records take the walk for every struct and list field they have (4, 4, 4, 3, 2 and 2),
        // present or null, and give the rows.
        let plain = try Self.parse(Self.plain.joined(separator: "\n"), walk: true, drift: drift)
        #expect(plain.walks == 19, "the plain records left the walk: \(plain.walks)")
        #expect(plain.bad.isEmpty && plain.batch.rowCount == Self.plain.count)
        #expect(RecordParserTests.column(plain.batch, 0) == ["1", "2", "3", "4", "5", "6"])
        // The unusual ones each leave it at least once (the map always), and still agree.
        for line in Self.unusual {
            let walked = try Self.parse(line, walk: true, drift: drift)
            Self.expectSame(walked, try Self.parse(line, walk: false, drift: drift), line)
        }
    }

    /// Struct keys are matched as two words when they have at most 16 bytes and 16 bytes can be read, else
    /// byte by byte: names of every length around those bounds, each a prefix of the next, keys that differ
    /// from a name only in their last byte (drift, left to the tree path), and a key that ends the input.
    @Test func structKeysOfEveryLengthAreMatched() throws {
        let names = ["a", "abcdefg", "abcdefgh", "abcdefghi", "abcdefghijklmno", "abcdefghijklmnop", "abcdefghijklmnopq", "abcdefghijklmnopqrstuvwx"]
        let schema = try SchemaText.schema("id long not null, s struct<" + names.map { "\($0) string" }.joined(separator: ", ") + ">")
        func record(_ id: Int, _ keys: [String]) -> String {
            "{\"id\": \(id), \"s\": {" + keys.enumerated().map { "\"\($1)\": \"v\($0)\"" }.joined(separator: ", ") + "}}"
        }
        let plain = [record(1, names), record(2, names.reversed()), record(3, ["abcdefghi", "a"]), record(4, [])]
        let unknown = [
            record(10, ["abcdefgX"]), record(16, ["abcdefghX"]), record(17, ["abcdefghijklmnX"]), record(11, ["abcdefghijklmnoX"]), record(12, ["abcdefghijklmnopX"]), record(13, ["abcdefghijklmnoq"]),
            record(14, ["abcdefghijklmnopqrstuvwX"]), record(15, ["b"]),
        ]
        for drift in [DriftPolicy.ignore, .rescue] {
            for chunk in [Int.max, 7, 64] {
                // The last record's last key ends within 16 bytes of the input's end.
                let text = (plain + unknown + [record(5, ["abcdefgh"])]).joined(separator: "\n")
                let walked = try Self.parse(text, schema: schema, drift: drift, chunk: chunk) { _ in }
                let tree = try Self.parse(text, schema: schema, drift: drift, chunk: chunk) { $0.walksNestedValues = false }
                Self.expectSame(walked, tree, "drift \(drift), chunks of \(chunk)")
                #expect(walked.batch.rowCount == plain.count + unknown.count + 1)
                // (A record cut by a chunk's end is walked again with the next chunk: counted whole only.)
                if chunk == Int.max { #expect(walked.walks == plain.count + 1, "only the records with known keys take the walk: \(walked.walks)") }
                for line in unknown {
                    #expect(try Self.parse(line, schema: schema, drift: drift, chunk: chunk) { _ in }.walks == 0, "\(line)")
                }
                #expect(walked.drift.filter { $0.hasPrefix("s.") }.count == 2 * unknown.count, "\(walked.drift)")
            }
        }
    }

    @Test func theWalkIsUsedUnderTheFailPolicyToo() throws {
        let plain = Self.plain.joined(separator: "\n")
        let walked = try Self.parse(plain, walk: true, drift: .fail)
        Self.expectSame(walked, try Self.parse(plain, walk: false, drift: .fail), "drift fail")
        #expect(walked.walks == 19)
        #expect(throws: IngestError.self) { try Self.parse(Self.unusual[0], walk: true, drift: .fail) }
    }
}

/// The string scan and the newline count read eight bytes at a time: every stop byte at every offset of a
/// word, bytes past 0x7f that must not stop it, and counts against a byte-by-byte loop.
@Suite struct JSONScanningTests {
    @Test func theStringScanStopsAtTheFirstQuoteBackslashOrControlByte() throws {
        for length in 0..<20 {
            for stop in [UInt8(ascii: "\""), UInt8(ascii: "\\"), 0x0a, 0x00, 0x1f] {
                // Filler of bytes near the stops (0x21, 0x5b, 0x5d, 0x20, 0xe9, 0xa2, 0xff) never stops it.
                let filler: [UInt8] = (0..<length).map { [0x21, 0x5b, 0x5d, 0x20, 0xe9, 0xa2, 0xff, 0x23][$0 % 8] }
                let bytes = filler + [stop] + Array(#"x" tail "#.utf8)
                let result: (end: Int, escaped: Bool, ascii: Bool)? = bytes.withUnsafeBufferPointer { b in
                    do throws(JSONRecordParser.Stop) { return try JSONRecordParser.scanString(b, from: 0) } catch { return nil }
                }
                switch stop {
                case UInt8(ascii: "\""):
                    #expect(result?.end == length && result?.escaped == false, "length \(length)")
                    #expect(result?.ascii == (length < 5), "the filler's bytes past 0x7f start at its fifth")
                case UInt8(ascii: "\\"): #expect(result?.end == length + 2 && result?.escaped == true, "length \(length): \(String(describing: result))")
                default: #expect(result == nil, "a control byte after \(length) bytes must stop the scan")
                }
            }
        }
    }

    /// The scan says whether a string is all ASCII (its UTF-8 check is skipped then): a byte past 0x7f at any
    /// offset before the quote makes it not; bytes past 0x7f after the quote, in the same word, do not count.
    @Test func theStringScanTellsASCIIStringsApart() {
        for length in 0..<20 {
            for high in [-1] + Array(0..<length) {
                var bytes: [UInt8] = (0..<length).map { UInt8(ascii: "a") + UInt8($0 % 20) }
                if high >= 0 { bytes[high] = 0xc3 }
                bytes += [UInt8(ascii: "\"")] + [0xe9, 0xff, 0x80, 0x41, 0x42, 0x43, 0x44, 0x45, 0x46]
                let result: (end: Int, escaped: Bool, ascii: Bool)? = bytes.withUnsafeBufferPointer { b in
                    do throws(JSONRecordParser.Stop) { return try JSONRecordParser.scanString(b, from: 0) } catch { return nil }
                }
                #expect(result?.end == length && result?.ascii == (high < 0), "length \(length), byte past 0x7f at \(high)")
            }
        }
    }

    @Test func newlinesAreCountedExactly() {
        var random = SplitMix64(seed: 5)
        for round in 0..<300 {
            // Short ranges, and long ones past the 255 blocks a lane can count before it is summed.
            let count = Int(random.next() % (round < 200 ? 70 : 12_000))
            let bytes = (0..<count).map { _ in [0x0a, 0x0b, 0x09, 0x8a, 0x61, 0x0a, 0x00, 0xff][Int(random.next() % 8)] as UInt8 }
            let from = count == 0 ? 0 : Int(random.next() % UInt64(count))
            let expected = bytes[from...].filter { $0 == 0x0a }.count
            let counted = bytes.withUnsafeBufferPointer { JSONRecordParser.newlines($0, from: from, to: count) }
            #expect(counted == expected)
        }
        // Nothing but line ends: a lane counts 255 blocks before the lanes are summed, and not one more.
        for (count, from) in [(4_080, 0), (4_096, 0), (4_112, 0), (8_192, 0), (8_192, 3), (20_000, 7)] {
            let bytes = [UInt8](repeating: 0x0a, count: count)
            #expect(bytes.withUnsafeBufferPointer { JSONRecordParser.newlines($0, from: from, to: count) } == count - from, "\(count) from \(from)")
        }
    }
}
