import Foundation
import IcebergCore
import Testing

@testable import IcebergIngest

/// The JSON parser matches the expected next key in place and parses the common forms of long, double,
/// string and timestamp values in place; everything else goes through the key lookup and the general
/// conversion. Both must agree on every record: values, bad records and their messages, drift.
@Suite struct ScalarFastPathTests {
    static let schema = try! SchemaText.schema("id long not null, t timestamptz, ts timestamp, name string, score double, n long, ok boolean")

    /// Values at and past each fast path's edges, in and out of key order.
    static let records = [
        #"{"id": 1, "t": "2026-11-24T10:15:30.123456Z", "ts": "2026-11-24T10:15:30Z", "name": "ann", "score": 1.5, "n": -7, "ok": true}"#,
        #"{"id":2,"t":"2026-11-24T10:15:30.123456789Z","ts":"2026-11-24T10:15:30.1Z","name":"","score":-0,"n":0}"#,
        #"{"id": 999999999999999999, "n": -999999999999999999, "score": 123456789012345, "t": "2026-02-29T23:59:60Z"}"#,
        #"{"id": 9223372036854775807, "n": -9223372036854775808, "score": 1234567890123456}"#,  // 19 digits, 16 digits
        #"{"id": 9223372036854775808}"#,  // out of range for a long
        #"{"id": 12e3, "score": 1e3, "n": 1.0}"#,  // exponents; a fraction for a long
        #"{"id": 13, "score": 0.000000000000001, "n": 007, "name": "caf\u00e9"}"#,  // escapes take the general path
        #"{"id": 14, "score": 1., "n": -}"#,
        #"{"id": 15, "t": "2026-13-01T00:00:00Z"}"#,  // month 13
        #"{"id": 16, "t": "2026-11-24T24:00:00Z"}"#,  // hour 24
        #"{"id": 17, "t": "2026-11-24T10:15:30.Z"}"#,  // a point without digits
        #"{"id": 18, "t": "2026-11-24 10:15:30+02:00", "ts": "2026-11-24t10:15:30z"}"#,  // other ISO forms
        #"{"id": 19, "t": "2026-11-24T10:15:30.1234567890Z"}"#,  // ten fraction digits
        #"{"id": 20, "t": "1764000000", "ts": 1764000000123}"#,  // epochs
        #"{"id": 21, "t": "20261124T101530Z"}"#,
        #"{"id": 22, "name": "\u00ff", "score": "2.5", "n": "42"}"#,  // numbers as strings
        "{\"id\": 23, \"name\": \"\u{e9}t\u{e9}\"}",  // UTF-8 in place
        #"{"i\u0064": 25, "na": "short key", "name": "x"}"#,  // an escaped key; a key that is a prefix
        #"{"name": "y", "id": 26, "id": 27}"#,  // out of order; a key twice
        #"{"id": 28, "extra_field_name_longer_than_16": 1, "score": 2}"#,
        #"{"id": 29, "t": null, "name": null, "score": null}"#,
        #"{"id": 30, "score": -.5, "n": +1}"#,
    ]

    static func parse(_ text: String, fast: Bool, chunk: Int) throws -> NestedWalkTests.Result {
        try NestedWalkTests.parse(text, schema: schema, drift: .rescue, chunk: chunk) { $0.takesFastPaths = fast }
    }

    @Test(arguments: [1, 7, 64, Int.max])
    func fastPathsAgreeWithTheGeneralConversion(_ chunk: Int) throws {
        let text = Self.records.joined(separator: "\n") + "\n"
        let fast = try Self.parse(text, fast: true, chunk: chunk)
        let general = try Self.parse(text, fast: false, chunk: chunk)
        NestedWalkTests.expectSame(fast, general, "chunk \(chunk)")
        #expect(fast.counts.rows + fast.counts.badRecords == Self.records.count)
        #expect(fast.counts.badRecords > 5, "the edge cases include bad records: \(fast.bad)")
    }

    /// The values the fast paths give, checked against what they mean.
    @Test func fastPathValues() throws {
        let result = try Self.parse(Self.records.prefix(3).joined(separator: "\n"), fast: true, chunk: Int.max)
        #expect(result.bad.isEmpty)
        let leaves = result.batch.leaves
        let day = Int64(CivilTime.days(year: 2026, month: 11, day: 24)) * 86_400_000_000
        let tenFifteen = Int64((10 * 60 + 15) * 60 + 30) * 1_000_000
        #expect(leaves[0].int64s == [1, 2, 999_999_999_999_999_999])
        #expect(leaves[1].int64s[0] == day + tenFifteen + 123_456)
        #expect(leaves[1].int64s[1] == day + tenFifteen + 123_456, "digits past the sixth are cut")
        #expect(leaves[1].int64s[2] == Int64(CivilTime.days(year: 2026, month: 2, day: 29)) * 86_400_000_000 + Int64(24 * 3600) * 1_000_000)
        #expect(leaves[2].int64s[0] == day + tenFifteen && leaves[2].int64s[1] == day + tenFifteen + 100_000)
        #expect(leaves[4].doubles[0] == 1.5 && leaves[4].doubles[1].sign == .minus && leaves[4].doubles[2] == 123_456_789_012_345)
        #expect(leaves[5].int64s == [-7, 0, -999_999_999_999_999_999])
        #expect(String(decoding: leaves[3].bytes, as: UTF8.self) == "ann")
    }

    /// The fast paths hold their values and append them to the columns in runs (64 values, or 1 KiB of
    /// strings, a field): across many runs, with nulls and missing fields among the values, strings longer
    /// than the room held, values that take the general conversion in between, and records rolled back
    /// after some of their values were held, the columns are exactly those of the general conversion.
    @Test(arguments: [DriftPolicy.ignore, .rescue])
    func heldValuesReachTheirColumnsInOrder(_ drift: DriftPolicy) throws {
        var random = SplitMix64(seed: 20_261_203)
        func pick(_ n: UInt64) -> UInt64 { random.next() % n }
        var lines: [String] = []
        for r in 0..<700 {
            var fields: [String] = []
            switch pick(8) {
            case 0: break  // missing
            case 1: fields.append(#""t": null"#)
            case 2: fields.append(#""t": "1764000000""#)  // an epoch: the general conversion
            default: fields.append(#""t": "2026-11-24T10:15:\#(String(format: "%02d", r % 60)).\#(r)Z""#)
            }
            switch pick(10) {
            case 0: break
            case 1: fields.append(#""name": null"#)
            case 2: fields.append(#""name": """#)
            case 3: fields.append(#""name": "\#(String(repeating: "m", count: 300 + r % 7))""#)  // a few fill the room
            case 4: fields.append(#""name": "\#(String(repeating: "L", count: 1_500 + r))""#)  // longer than the room
            case 5: fields.append(#""name": "caf\u00e9 \#(r)""#)  // an escape: the general conversion
            case 6: fields.append("\"name\": \"\u{e9}t\u{e9} \(r)\"")
            default: fields.append(#""name": "u\#(r)""#)
            }
            switch pick(6) {
            case 0: break
            case 1: fields.append(#""score": null"#)
            case 2: fields.append(#""score": 1e\#(r % 5)"#)  // an exponent: the general conversion
            default: fields.append(#""score": \#(r).25"#)
            }
            switch pick(7) {
            case 0: break
            case 1: fields.append(#""n": null"#)
            case 2: fields.append(#""n": "x\#(r)""#)  // does not fit: rescued, or a bad record
            default: fields.append(#""n": -\#(r)"#)
            }
            switch pick(5) {
            case 0: break
            case 1: fields.append(#""ok": null"#)
            default: fields.append(#""ok": \#(r % 3 == 0)"#)
            }
            switch pick(40) {
            case 0: fields.append(#""id": "not a number""#)  // after the others were held: rolled back
            case 1:  // not JSON, after values were held
                lines.append("{" + (fields + [#""id": \#(r)"#]).joined(separator: ", ") + #", "n": }"#)
                continue
            case 2: break  // the required id missing: rolled back
            default: fields.insert(#""id": \#(r)"#, at: Int(pick(UInt64(fields.count + 1))))
            }
            lines.append("{" + fields.joined(separator: ", ") + "}")
        }
        let text = lines.joined(separator: "\n") + "\n"
        for chunk in [Int.max, 4_096, 333] {
            let fast = try NestedWalkTests.parse(text, schema: Self.schema, drift: drift, chunk: chunk) { $0.takesFastPaths = true }
            let general = try NestedWalkTests.parse(text, schema: Self.schema, drift: drift, chunk: chunk) { $0.takesFastPaths = false }
            NestedWalkTests.expectSame(fast, general, "drift \(drift), chunks of \(chunk)")
            #expect(fast.counts.rows + fast.counts.badRecords == lines.count)
            #expect(fast.counts.rows > 450 && fast.counts.badRecords >= 10, "rows \(fast.counts.rows), bad \(fast.counts.badRecords)")
            // Every column got values and nulls (the strings long ones too), over many runs.
            let leaves = fast.batch.leaves
            #expect(leaves[0].int64s.count == fast.counts.rows && Set(leaves[0].int64s).count == fast.counts.rows)
            #expect(leaves[3].definitionLevels().filter { $0 == 0 }.count > 50 && leaves[3].bytes.count > 100_000)
            for leaf in [1, 4, 5, 6] { #expect(leaves[leaf].definitionLevels().filter { $0 == 0 }.count > 50, "leaf \(leaf) has nulls") }
        }
    }

    /// Keys are matched in place against the order the records showed, each record's first key included:
    /// schema order from the start, another order from its second record on, and again after the order
    /// changes; the values are the same as with every key looked up.
    @Test func keysAreMatchedInTheOrderTheRecordsKeep() throws {
        let names = ["id", "t", "ts", "name", "score", "n", "ok"]
        let values = ["1", #""2026-11-24T10:15:30Z""#, #""2026-11-24T10:15:30Z""#, #""ann""#, "1.5", "-7", "true"]
        func records(_ order: [Int], _ count: Int) -> String {
            String(repeating: "{" + order.map { "\"\(names[$0])\":\(values[$0])" }.joined(separator: ",") + "}\n", count: count)
        }
        func predicted(_ records: String) throws -> (keys: Int, rows: Int) {
            // The match in place reads 16 bytes past a key's start: trailing blanks keep the last keys in reach.
            let text = records + String(repeating: " ", count: 16)
            let layout = try ColumnLayout(schema: Self.schema)
            var parser = JSONRecordParser(layout: layout, options: ConversionOptions(), source: "in.json")
            var batch = RecordBatch(layout: layout)
            _ = try Array(text.utf8).withUnsafeBufferPointer { try parser.parse($0, isFinal: true, into: &batch) { Issue.record("bad: \($0)") } }
            let general = try Self.parse(text, fast: false, chunk: Int.max)
            #expect(batch.leaves.indices.allSatisfy { batch.leaves[$0].sameContents(as: general.batch.leaves[$0]) })
            return (parser.predictedKeys, parser.counts.rows)
        }
        let schemaOrder = try predicted(records(Array(0..<7), 10))
        #expect(schemaOrder.rows == 10 && schemaOrder.keys == 70, "every key of every record, the first ones included")
        let reversed = try predicted(records(Array((0..<7).reversed()), 10))
        #expect(reversed.rows == 10 && reversed.keys == 9 * 7, "all but the first record's keys")
        let changed = try predicted(records(Array(0..<7), 5) + records([3, 0, 6, 1, 2, 5, 4], 5))
        // In the new order's first record only "ts" after "t" is where schema order put it.
        #expect(changed.rows == 10 && changed.keys == 5 * 7 + 1 + 4 * 7, "the new order is learned from its first record")
    }

    /// A timestamp whose date is the last one read takes that date's day number without reading it again:
    /// every value is what reading each on its own gives, through runs of one date, changes of date, and
    /// dates and times that are not valid after a valid one.
    @Test func timestampsSharingADateReadAsEachAlone() {
        let texts = [
            "2026-11-24T10:15:30Z", "2026-11-24T10:15:31.5Z", "2026-11-24T23:59:60Z", "2026-11-24T24:00:00Z", "2026-11-24T10:61:00Z",
            "2026-11-25T00:00:00.000001Z", "2026-11-24T10:15:30Z", "2026-13-24T10:15:30Z", "2026-11-32T10:15:30Z", "2026-11-2xT10:15:30Z",
            "2026-11-24T10:15:30Z", "2026-11-24 10:15:30Z", "2026-11-24T10:15:30+02:00", "2026-02-29T00:00:00Z", "2026-02-29T00:00:01Z",
            "1970-01-01T00:00:00Z", "1969-12-31T23:59:59.999999Z", "2026-11-24T10:15:30Z",
        ]
        var cache = ScalarText.DayCache()
        for text in texts {
            let bytes = Array(text.utf8)
            let cached = bytes.withUnsafeBufferPointer { ScalarText.timestamp($0, dayCache: &cache) }
            let alone = bytes.withUnsafeBufferPointer { ScalarText.timestamp($0) }
            #expect(cached == alone, "\(text)")
        }
        let tenFifteen = Array("2026-11-24T10:15:30Z".utf8).withUnsafeBufferPointer { ScalarText.timestamp($0) }
        #expect(tenFifteen == Int64(CivilTime.days(year: 2026, month: 11, day: 24)) * 86_400_000_000 + Int64((10 * 60 + 15) * 60 + 30) * 1_000_000)
    }

    /// The machine form's fraction, read eight bytes at a time: every length from one digit to nine gives the
    /// digits' microseconds (those past the sixth dropped), and a byte that is not a digit at any place of the
    /// fraction (just below '0', just above '9', a letter, a space, a byte above 0x7f) makes the value unreadable.
    @Test func fractionsOfEveryLengthAndEveryBadByte() {
        let head = "2026-11-24T10:15:30"
        let seconds = Int64(CivilTime.days(year: 2026, month: 11, day: 24)) * 86_400_000_000 + Int64((10 * 60 + 15) * 60 + 30) * 1_000_000
        func read(_ bytes: [UInt8]) -> Int64? { bytes.withUnsafeBufferPointer { ScalarText.timestamp($0) } }
        var rng = SystemRandomNumberGenerator()
        for length in 1...9 {
            for _ in 0..<50 {
                let digits = (0..<length).map { _ in UInt8(ascii: "0") + UInt8.random(in: 0...9, using: &rng) }
                // The reference: the first six digits, padded with zeros, as microseconds.
                let micros = (digits.prefix(6) + Array(repeating: UInt8(ascii: "0"), count: max(0, 6 - length))).reduce(Int64(0)) { $0 * 10 + Int64($1 - 48) }
                let text = Array(head.utf8) + [UInt8(ascii: ".")] + digits + [UInt8(ascii: "Z")]
                #expect(read(text) == seconds + micros, "\(String(decoding: text, as: UTF8.self))")
                for place in 0..<length {
                    for bad: UInt8 in [0x2f, 0x3a, UInt8(ascii: "a"), 0x20, 0x00, 0xb0, 0xff] {
                        var broken = digits
                        broken[place] = bad
                        let text = Array(head.utf8) + [UInt8(ascii: ".")] + broken + [UInt8(ascii: "Z")]
                        #expect(read(text) == nil, "\(length) digits, \(bad) at \(place)")
                    }
                }
            }
        }
        // A `.` with no digits is no timestamp; ten digits, past the machine form, are read in full (the
        // first six kept) by the general reading.
        #expect(read(Array("2026-11-24T10:15:30.Z".utf8)) == nil)
        #expect(read(Array("2026-11-24T10:15:30.1234567890Z".utf8)) == seconds + 123_456)
    }
}
