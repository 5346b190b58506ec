import Foundation
import IcebergCore
import Testing

@testable import IcebergIngest

/// The JSON and CSV parsers: conversions, nesting, chunk boundaries, and bad records named exactly.
@Suite struct RecordParserTests {
    static let schema = try! SchemaText.schema(
        "id long not null, t timestamptz, name string, price decimal(10,2), ok boolean, d date, score double, n int, u uuid")

    /// Parses `text` fed in chunks of `chunk` bytes; returns the batch, the bad records and the counts.
    static func parseJSON(
        _ text: String, schema: Schema = schema, chunk: Int = Int.max, options: ConversionOptions = ConversionOptions()
    ) throws -> (RecordBatch, [BadRecord], ParseCounts) {
        let (batch, bad, counts, _) = try parseJSONWithDrift(text, schema: schema, chunk: chunk, options: options)
        return (batch, bad, counts)
    }

    /// ``parseJSON(_:schema:chunk:options:)`` with the parser's drift tracker.
    static func parseJSONWithDrift(
        _ text: String, schema: Schema = schema, chunk: Int = Int.max, options: ConversionOptions = ConversionOptions()
    ) throws -> (RecordBatch, [BadRecord], ParseCounts, DriftTracker) {
        let layout = try ColumnLayout(schema: schema)
        var parser = JSONRecordParser(layout: layout, options: options, source: "in.json")
        var batch = RecordBatch(layout: layout)
        var bad: [BadRecord] = []
        try feed(text, chunk: chunk) { buffer, isFinal in try parser.parse(buffer, isFinal: isFinal, into: &batch) { bad.append($0) } }
        return (batch, bad, parser.counts, parser.drift)
    }

    /// Feeds `text` in chunks of `chunk` bytes to `parse`, carrying what it leaves for the next call, the way
    /// the run loop does; the last call is final and must use everything.
    static func feed(_ text: String, chunk: Int, _ parse: (UnsafeBufferPointer<UInt8>, Bool) throws -> Int) throws {
        try feed(Array(text.utf8), chunk: chunk, parse)
    }

    /// ``feed(_:chunk:_:)`` of bytes (which need not be UTF-8).
    static func feed(_ bytes: [UInt8], chunk: Int, _ parse: (UnsafeBufferPointer<UInt8>, Bool) throws -> Int) throws {
        var carry: [UInt8] = []
        var offset = 0
        while offset < bytes.count {
            let end = min(bytes.count, offset + chunk)
            carry += bytes[offset..<end]
            offset = end
            let used = try carry.withUnsafeBufferPointer { try parse($0, false) }
            carry.removeFirst(used)
        }
        let used = try carry.withUnsafeBufferPointer { try parse($0, true) }
        #expect(used == carry.count)
    }

    static func column(_ batch: RecordBatch, _ leaf: Int) -> [String] {
        (0..<batch.rowCount).map { batch.literal(leaf: leaf, row: $0)?.description ?? "null" }
    }

    @Test func convertsScalarsFromJSON() throws {
        let text = """
            {"id": 1, "t": "2026-11-24T10:15:30Z", "name": "a\\u00e9\\n\\"q\\"", "price": 12.5, "ok": true, "d": "2026-11-24", "score": 1.5e3, "n": 7, "u": "123e4567-e89b-12d3-a456-426614174000"}
            {"id": 2, "t": 1764000000, "price": "3", "ok": "false", "score": "NaN", "n": "-8"}
            {"id": 3, "t": 1764000000123, "name": null}
            {"id": 4, "t": 1764000000123456, "extra": {"x": [1, 2]}}
            {"id": 5, "t": "2026-11-24T11:15:30.5+01:00"}
            """
        let (batch, bad, counts, drift) = try Self.parseJSONWithDrift(text)
        #expect(bad.isEmpty)
        #expect(batch.rowCount == 5)
        #expect(Self.column(batch, 0) == ["1", "2", "3", "4", "5"])
        // Timestamps, as microseconds: ISO with Z, epoch seconds, milliseconds, microseconds, an offset.
        let micros = (0..<5).map { row -> Int64 in
            if case .timestamptz(let v)? = batch.literal(leaf: 1, row: row) { return v }
            return -1
        }
        #expect(micros == [1_795_515_330_000_000, 1_764_000_000_000_000, 1_764_000_000_123_000, 1_764_000_000_123_456, 1_795_515_330_500_000])
        #expect(Self.column(batch, 2) == ["aé\n\"q\"", "null", "null", "null", "null"])
        #expect(Self.column(batch, 3) == ["12.50", "3.00", "null", "null", "null"])
        #expect(Self.column(batch, 4) == ["true", "false", "null", "null", "null"])
        #expect(Self.column(batch, 5) == ["2026-11-24", "null", "null", "null", "null"])
        #expect(Self.column(batch, 6).prefix(2) == ["1500.0", "nan"])
        #expect(Self.column(batch, 7).prefix(2) == ["7", "-8"])
        #expect(Self.column(batch, 8).first == "123e4567-e89b-12d3-a456-426614174000")
        #expect(counts.rows == 5)
        #expect(drift.unknownFields == ["extra": 1])
    }

    @Test func badRecordsNameTheLineOffsetFieldAndValue() throws {
        let text = """
            {"id": 1}
            {"id": "x1"}
            {"id": 3, "price": 1.234}
            {"id": 4, "t": "yesterday"}
            {"t": "2026-11-24T10:00:00Z"}
            {"id": 6, "name": 5}
            {"id": 7,, }
            {"id": 8}
            {"id": 9, "id": 10}
            [1, 2]
            {"id": 11}
            """
        let (batch, bad, counts) = try Self.parseJSON(text)
        #expect(Self.column(batch, 0) == ["1", "8", "11"])
        #expect(counts.rows == 3 && counts.badRecords == 8)
        let described = bad.map { "\($0.line) \($0.field ?? "-"): \($0.reason)" }
        #expect(described == [
            "2 id: expected long, found a string 'x1'",
            "3 price: '1.234' has more than 2 decimal places for decimal(10,2)",
            "4 t: expected timestamptz (ISO-8601 or epoch seconds/ms/us), found a string 'yesterday'",
            "5 id: required field 'id' is missing",
            "6 name: expected string, found a number '5'",
            "7 -: not valid JSON: expected a key in double quotes",
            "9 id: the key appears twice in the record",
            "10 -: not valid JSON: a record must be a JSON object, found '['",
        ])
        // The byte offset points at the bad value: line 2 starts at byte 10, its value at 17.
        #expect(bad[0].byteOffset == 17)
        #expect(String(decoding: bad[0].raw, as: UTF8.self).hasPrefix("{\"id\": \"x1\"}"))
    }

    /// Which fields a record set is a bit mask up to 64 fields and a stamp per field past that: on schemas of
    /// 63, 64, 65 and 70 fields, a field left out is null, a required one left out is a bad record, and a key
    /// given twice is a bad record, whichever field it is.
    @Test(arguments: [63, 64, 65, 70]) func wideRecordsMarkEachField(_ width: Int) throws {
        let schema = try SchemaText.schema((0..<width).map { $0 == width - 1 ? "f\($0) long not null" : "f\($0) long" }.joined(separator: ", "))
        let last = width - 1
        func record(_ fields: [Int]) -> String { "{" + fields.map { "\"f\($0)\": \($0)" }.joined(separator: ", ") + "}" }
        let text = [
            record(Array(0..<width)),  // every field
            record(Array(0..<width).filter { $0 != 3 && $0 != width - 2 }),  // two left out
            record(Array(0..<width - 1)),  // the required last one left out
            record(Array(0..<width) + [width - 2]),  // a key twice, past the 64th field when the schema is wider
            record(Array(0..<width).reversed()),  // every field, another order
        ].joined(separator: "\n")
        let (batch, bad, counts) = try Self.parseJSON(text, schema: schema)
        #expect(counts.rows == 3 && bad.map(\.line) == [3, 4])
        #expect(bad.first?.reason == "required field 'f\(last)' is missing")
        #expect(bad.last?.reason == "the key appears twice in the record")
        #expect(Self.column(batch, 3) == ["3", "null", "3"] && Self.column(batch, width - 2) == ["\(width - 2)", "null", "\(width - 2)"])
        #expect(Self.column(batch, last) == ["\(last)", "\(last)", "\(last)"])
    }

    /// `true` and `false` are matched a word at a time in place: at every chunk size, with the fast paths on
    /// and off, the same rows and the same bad records (a partial or misspelled literal names what was expected).
    @Test func booleansInPlaceMatchTheGeneralPath() throws {
        let schema = try SchemaText.schema("id long, ok boolean")
        let text = """
            {"id": 1, "ok": true}
            {"id": 2, "ok": false}
            {"id": 3, "ok": tru}
            {"id": 4, "ok": falsy}
            {"id": 5, "ok": trueish}
            {"id": 6, "ok":false}
            {"id": 7, "ok": true }
            {"id": 8, "ok": fals
            """
        let layout = try ColumnLayout(schema: schema)
        var results: Set<String> = []
        for chunk in [1, 3, 5, 7, Int.max] {
            for fast in [true, false] {
                var parser = JSONRecordParser(layout: layout, options: ConversionOptions(), source: "in.json")
                parser.takesFastPaths = fast
                var batch = RecordBatch(layout: layout)
                var bad: [String] = []
                try Self.feed(text, chunk: chunk) { buffer, isFinal in
                    try parser.parse(buffer, isFinal: isFinal, into: &batch) { bad.append("\($0.line): \($0.reason)") }
                }
                results.insert("\(Self.column(batch, 0)) \(Self.column(batch, 1)) " + bad.joined(separator: "; "))
            }
        }
        #expect(results.count == 1, "\(results)")
        #expect(results.first?.hasPrefix(#"["1", "2", "6", "7"] ["true", "false", "false", "true"]"#) == true, "\(results)")
        #expect(results.first?.hasSuffix(
            "3: not valid JSON: expected 'true'; 4: not valid JSON: expected 'false'; 5: not valid JSON: expected ',' or '}' in an object; 8: the input ends inside this record") == true, "\(results)")
    }

    @Test func anyChunkingGivesTheSameRows() throws {
        var lines: [String] = []
        for i in 0..<300 {
            lines.append(#"{"id":\#(i),"name":"n\#(i)\u00e9","t":"2026-01-01T00:00:\#(String(format: "%02d", i % 60))Z","score":\#(Double(i) / 4)}"#)
        }
        let jsonLines = lines.joined(separator: "\n")
        let concatenated = lines.joined()
        let (whole, _, _) = try Self.parseJSON(jsonLines)
        for chunk in [1, 7, 64, 1000] {
            for text in [jsonLines, concatenated] {
                let (batch, bad, _) = try Self.parseJSON(text, chunk: chunk)
                #expect(bad.isEmpty)
                #expect(batch.rowCount == 300)
                for leaf in 0..<whole.leaves.count { #expect(Self.column(batch, leaf) == Self.column(whole, leaf)) }
            }
        }
    }

    @Test func nestedValuesGetDremelLevels() throws {
        let schema = try SchemaText.schema("id long not null, user struct<name string, tags list<string>>, attrs map<string, int>")
        let text = """
            {"id": 1, "user": {"name": "a", "tags": ["x", "y"]}, "attrs": {"k": 1, "j": 2}}
            {"id": 2, "user": {"name": null, "tags": []}, "attrs": {}}
            {"id": 3}
            {"id": 4, "user": {"tags": [null, "z"]}, "attrs": {"q": "not-an-int"}}
            """
        let (batch, bad, _) = try Self.parseJSON(text, schema: schema)
        #expect(batch.rowCount == 3)
        #expect(bad.count == 1 && bad[0].line == 4 && bad[0].field == "attrs")
        #expect(bad[0].reason.contains("expected int"))
        let columns = batch.columnData()
        // user.tags.element: max definition 4 (user, tags, repeated, element), repetition 1.
        #expect(columns[2].levels == .init(definition: [4, 4, 2, 0], repetition: [0, 1, 0, 0]))
        #expect(columns[1].levels == .init(definition: [2, 1, 0], repetition: []))
        // attrs.key (required): 2 when present; attrs.value: 3 when present.
        #expect(columns[3].levels == .init(definition: [2, 2, 1, 0], repetition: [0, 1, 0, 0]))
        #expect(columns[4].levels == .init(definition: [3, 3, 1, 0], repetition: [0, 1, 0, 0]))
        // Taking rows keeps each row's slots together.
        let taken = batch.taking(rows: [2, 0])
        #expect(taken.columnData()[2].levels == .init(definition: [0, 4, 4], repetition: [0, 0, 1]))
    }

    /// Booleans as text take the usual spellings in any ASCII case, and nothing else.
    @Test func booleanTextInAnyCase() {
        func parse(_ text: String) -> Bool? { Array(text.utf8).withUnsafeBufferPointer { ScalarText.boolean($0) } }
        for text in ["true", "TRUE", "True", "1", "t", "T", "yes", "YES"] { #expect(parse(text) == true, "\(text)") }
        for text in ["false", "FALSE", "0", "f", "F", "no", "No"] { #expect(parse(text) == false, "\(text)") }
        for text in ["", "tru", "truee", "2", "ja", "nope", "falsey", "y", "n", "t\u{0}", "TRUE ", "ıes"] { #expect(parse(text) == nil, "\(text)") }
    }

    @Test func csvQuotingHeadersAndBadRows() throws {
        let schema = try SchemaText.schema("id long not null, name string, price decimal(8,2), t timestamp")
        let layout = try ColumnLayout(schema: schema)
        let text = "name;id;extra;t\r\n\"Smith; \"\"J\"\"\";1;x;2026-11-24 10:00:00\r\n\"multi\nline\";2;;\r\nz;bad;;\r\n\n;4;;\r\n"
        for chunk in [1, 5, 1000] {
            var parser = CSVRecordParser(layout: layout, options: ConversionOptions(), source: "in.csv", delimiter: UInt8(ascii: ";"))
            var batch = RecordBatch(layout: layout)
            var bad: [BadRecord] = []
            try Self.feed(text, chunk: chunk) { buffer, isFinal in try parser.parse(buffer, isFinal: isFinal, into: &batch) { bad.append($0) } }
            #expect(Self.column(batch, 0) == ["1", "2", "4"])
            #expect(Self.column(batch, 1) == ["Smith; \"J\"", "multi\nline", "null"])
            #expect(Self.column(batch, 3) == ["2026-11-24T10:00:00", "null", "null"])
            #expect(bad.count == 1)
            #expect(bad.first?.line == 5 && bad.first?.field == "id")
            // Only cells with something in them count as drift (one 'x').
            #expect(parser.drift.unknownFields == ["extra": 1])
            #expect(parser.counts.headerLines == 1)
        }
    }

    /// A quote that never closes (`printf 'id,name\n1,a\n2,"x'`) once looped forever: the parser restarted
    /// at the opening quote. Now the rest of the input is one malformed record, whatever the chunk size and
    /// delimiter, and every line is accounted for.
    @Test func csvUnclosedQuoteEndsAtTheEndOfInput() throws {
        let schema = try SchemaText.schema("id long not null, name string")
        let layout = try ColumnLayout(schema: schema)
        for (delimiter, text) in [(UInt8(ascii: ","), "id,name\n1,a\n2,\"x"), (UInt8(0x09), "id\tname\n1\ta\n2\t\"x\ny\nz")] {
            for chunk in [1, 3, 1000] {
                var parser = CSVRecordParser(layout: layout, options: ConversionOptions(), source: "in.csv", delimiter: delimiter)
                var batch = RecordBatch(layout: layout)
                var bad: [BadRecord] = []
                try Self.feed(text, chunk: chunk) { buffer, isFinal in try parser.parse(buffer, isFinal: isFinal, into: &batch) { bad.append($0) } }
                #expect(Self.column(batch, 0) == ["1"])
                #expect(bad.count == 1)
                #expect(bad.first?.kind == .malformed && bad.first?.line == 3)
                #expect(bad.first?.reason == "not valid CSV: a quoted field is not closed")
                #expect(parser.counts.rows == 1 && parser.counts.badRecords == 1)
            }
        }
    }

    /// Parses CSV `text` in chunks of `chunk` bytes: the batch, the bad records and the parser.
    static func parseCSV(_ text: [UInt8], schema: Schema, chunk: Int) throws -> (RecordBatch, [BadRecord], CSVRecordParser) {
        let layout = try ColumnLayout(schema: schema)
        var parser = CSVRecordParser(layout: layout, options: ConversionOptions(), source: "in.csv")
        var batch = RecordBatch(layout: layout)
        var bad: [BadRecord] = []
        try feed(text, chunk: chunk) { buffer, isFinal in try parser.parse(buffer, isFinal: isFinal, into: &batch) { bad.append($0) } }
        return (batch, bad, parser)
    }

    /// Quoted cells at the end of CRLF lines: a chunk that ends between the CR and the LF once read the LF as
    /// a blank line of its own, and every later line number was one off.
    @Test func csvCRLFAfterAQuotedCellKeepsLineNumbers() throws {
        let schema = try SchemaText.schema("id long not null, name string")
        let text = Array("\"id\",\"name\"\r\n\"1\",\"a\"\r\n\"2\",\"b\"\r\n\"x\",\"c\"\r\n\"4\",\"d\"\r\n".utf8)
        for chunk in 1...text.count {
            let (batch, bad, parser) = try Self.parseCSV(text, schema: schema, chunk: chunk)
            #expect(Self.column(batch, 0) == ["1", "2", "4"] && Self.column(batch, 1) == ["a", "b", "d"], "chunk \(chunk)")
            #expect(bad.map(\.line) == [4], "chunk \(chunk): \(bad.map(\.description))")
            #expect(parser.position.line == 6, "chunk \(chunk)")
        }
    }

    /// A header that cannot place the cells makes every record of the file a bad record saying why: a header
    /// that is not valid CSV was once counted as one bad record and the first data line read as the header;
    /// a column named twice put two values per row into one column, out of step with the rows.
    @Test func csvAHeaderThatCannotPlaceCellsMakesEveryRecordBad() throws {
        let schema = try SchemaText.schema("id long not null, name string")
        for (text, reason) in [
            ("\"id\"x,name\n1,alice\n2,bob\n", "the header (line 1) is not valid CSV: unexpected character after a closing quote"),
            ("id,name,id\n1,a,1\n2,b,2\n", "the header (line 1) names column 'id' twice (columns 1 and 3): its cells cannot be told apart"),
        ] {
            for chunk in [1, 4, 1000] {
                let (batch, bad, parser) = try Self.parseCSV(Array(text.utf8), schema: schema, chunk: chunk)
                #expect(batch.rowCount == 0 && parser.counts.rows == 0, "\(text) chunk \(chunk)")
                // A header that is not valid CSV is a bad record itself; one naming a column twice is not.
                let rows = bad.filter { $0.reason == reason }
                #expect(rows.map(\.line) == [2, 3] && rows.allSatisfy { $0.kind == .malformed }, "\(bad.map(\.description))")
                let header = bad.filter { $0.line == 1 }
                #expect(header.count == (text.hasPrefix("\"") ? 1 : 0) && header.allSatisfy { $0.reason.hasSuffix("(the header)") }, "\(bad.map(\.description))")
                #expect(parser.counts.headerLines == 1 && parser.counts.badRecords == bad.count)
            }
        }
        // A header whose quote never closes takes the rest of the input with it: one bad record, not none.
        for chunk in [1, 4, 1000] {
            let (batch, bad, parser) = try Self.parseCSV(Array("id,\"name\n1,a\n2,b\n".utf8), schema: schema, chunk: chunk)
            #expect(batch.rowCount == 0 && bad.count == 1 && bad.first?.line == 1 && parser.counts.badRecords == 1, "chunk \(chunk): \(bad.map(\.description))")
            #expect(bad.first?.reason == "not valid CSV: a quoted field is not closed (the header)")
        }
        // A header naming an unknown column twice is as ambiguous; empty names (trailing delimiters) are not names.
        let (batch, bad, _) = try Self.parseCSV(Array("id,name,,\n1,a,,\n".utf8), schema: schema, chunk: 1000)
        #expect(bad.isEmpty && Self.column(batch, 1) == ["a"])
    }

    /// Text that is not UTF-8 never reaches a string column, escaped or not, from CSV or JSON.
    @Test func invalidUTF8BesideAnEscapeIsABadRecord() throws {
        let schema = try SchemaText.schema("id long not null, name string")
        let csv = Array("id,name\n1,\"say \"\"hi\"\" ".utf8) + [0xff] + Array("\"\n2,\"".utf8) + [0xe9] + Array("\"\n3,ok\n".utf8)
        let (batch, bad, _) = try Self.parseCSV(csv, schema: schema, chunk: 1000)
        #expect(Self.column(batch, 0) == ["3"])
        #expect(bad.map(\.line) == [2, 3] && bad.allSatisfy { $0.field == "name" && $0.reason.contains("not valid UTF-8") }, "\(bad.map(\.description))")

        let layout = try ColumnLayout(schema: schema)
        for takesFastPaths in [true, false] {
            var parser = JSONRecordParser(layout: layout, options: ConversionOptions(), source: "in.json")
            parser.takesFastPaths = takesFastPaths
            var json = RecordBatch(layout: layout)
            var jsonBad: [BadRecord] = []
            let text = Array(#"{"id": 1, "name": "a\n"#.utf8) + [0xff] + Array(#""}"#.utf8) + [0x0a] + Array(#"{"id": 2, "name": "b\n"}"#.utf8) + [0x0a]
            _ = try text.withUnsafeBufferPointer { try parser.parse($0, isFinal: true, into: &json) { jsonBad.append($0) } }
            #expect(Self.column(json, 0) == ["2"] && Self.column(json, 1) == ["b\n"])
            #expect(jsonBad.count == 1 && jsonBad.first?.field == "name" && jsonBad.first?.reason.contains("not valid UTF-8") == true, "\(jsonBad.map(\.description))")
        }
    }

    /// The header too long for `max_record_bytes` is named at its own line.
    @Test func csvAHeaderTooLongNamesItsLine() throws {
        let layout = try ColumnLayout(schema: try SchemaText.schema("id long not null"))
        var parser = CSVRecordParser(layout: layout, options: ConversionOptions(), source: "in.csv")
        parser.maxRecordBytes = 8
        var batch = RecordBatch(layout: layout)
        let text = Array("id,a_rather_long_name\n1,x\n".utf8)
        do {
            _ = try text.withUnsafeBufferPointer { try parser.parse($0, isFinal: true, into: &batch) { _ in } }
            Issue.record("a header past max_record_bytes was read")
        } catch let error as IngestError {
            #expect(error.message.hasPrefix("in.csv line 1:"), "\(error.message)")
        }
    }

    /// The smaller cases of the hostile-input issue, as reproduced: a number past `long` was "non-integral";
    /// an epoch timestamp given as a string was refused though numbers may come as strings; an epoch of
    /// Int64.min nanoseconds trapped; a decimal with a huge exponent padded zeros until memory ran out.
    @Test func numbersAtTheEdges() throws {
        let text = """
            {"id": 9223372036854775808}
            {"id": -9223372036854775809}
            {"id": 1, "t": "1764000000"}
            {"id": 2, "t": "1764000000123"}
            {"id": 3, "t": -9223372036854775808}
            {"id": 4, "price": 1e9000000000}
            {"id": 5, "price": 1e-9223372036854775808}
            {"id": 6, "price": 1.5e1}
            """
        var options = ConversionOptions()
        options.epochUnit = .nanoseconds
        let (batch, bad, _) = try Self.parseJSON(text, options: ConversionOptions())
        #expect(bad.count == 4, "\(bad.map(\.description))")
        guard bad.count == 4 else { return }
        #expect(bad[0].reason == "'9223372036854775808' is out of range for long (a long holds -9223372036854775808 to 9223372036854775807)")
        #expect(bad[1].reason.contains("is out of range for long"))
        #expect(bad[2].reason.contains("exponent out of range") && bad[3].reason.contains("exponent out of range"))
        #expect(bad[2].line == 6 && bad[3].line == 7 && bad[3].field == "price")
        // Int64.min read as nanoseconds (its magnitude says so) is a valid instant, floored to microseconds.
        #expect(Self.column(batch, 0) == ["1", "2", "3", "6"])
        let micros = (0..<2).map { row -> Int64 in
            if case .timestamptz(let v)? = batch.literal(leaf: 1, row: row) { return v }
            return -1
        }
        #expect(micros == [1_764_000_000_000_000, 1_764_000_000_123_000])
        #expect(Self.column(batch, 3).last == "15.00")
        let (nanos, nanosBad, _) = try Self.parseJSON(#"{"id": 1, "t": -9223372036854775808}"#, options: options)
        #expect(nanosBad.isEmpty && nanos.rowCount == 1)
    }

    /// A byte-order mark before the first record (as Windows tools write one) is not part of it.
    @Test func aByteOrderMarkIsNotARecord() throws {
        let layout = try ColumnLayout(schema: try SchemaText.schema("id long not null, name string"))
        for (format, text) in [(InputFormat.json, "\u{FEFF}{\"id\": 1}\n{\"id\": 2}\n"), (.csv(delimiter: UInt8(ascii: ",")), "\u{FEFF}id,name\n1,a\n2,b\n")] {
            for piece in [1, 2, 1000] {
                var stream = RecordStream(parser: format.makeRecordParser(layout: layout, options: ConversionOptions(), source: "in", drift: .fail)!, maxRecordBytes: 1 << 20, source: "in")
                var batch = RecordBatch(layout: layout)
                var bad: [BadRecord] = []
                let bytes = Array(text.utf8)
                for start in stride(from: 0, to: bytes.count, by: piece) {
                    try stream.consume(bytes[start..<min(bytes.count, start + piece)], isFinal: false, into: &batch) { bad.append($0) }
                }
                try stream.consume([][...], isFinal: true, into: &batch) { bad.append($0) }
                #expect(bad.isEmpty, "\(format) piece \(piece): \(bad.map(\.description))")
                #expect(Self.column(batch, 0) == ["1", "2"])
            }
        }
    }

    /// Each bad record says what kind of problem it has, as a type (the run's drift findings count by it).
    @Test func badRecordsCarryTheirKind() throws {
        let text = """
            {"id": 1, "n": 3000000000}
            {"id": 2, "n": "x"}
            {"id": null}
            {"id": 4, "id": 5}
            {"id": 6
            """
        let (batch, bad, _) = try Self.parseJSON(text)
        #expect(batch.rowCount == 0)
        #expect(bad.map(\.kind) == [.typeMismatch(widening: .long), .typeMismatch(widening: nil), .missingRequired, .malformed, .malformed])
        #expect(bad.map(\.kind.name) == ["type-mismatch", "type-mismatch", "missing-required", "malformed", "malformed"])
        #expect(bad[0].needsWidening && !bad[1].needsWidening)
    }

    @Test func schemaAndPartitionText() throws {
        let schema = try SchemaText.schema("id bigint not null, e timestamptz, m map<string, list<int>>, s struct<a: int, b decimal(20, 3)>")
        #expect(schema.fields.map(\.id) == [1, 2, 3, 7])
        #expect(schema.fields[2].type == .map(MapType(keyID: 4, key: .primitive(.string), valueID: 5, value: .list(ListType(elementID: 6, element: .primitive(.int), elementRequired: false)), valueRequired: false)))
        let spec = try SchemaText.partitionSpec("hour(e), bucket(16, id)", schema: schema)
        #expect(spec.fields.map(\.name) == ["e_hour", "id_bucket"])
        #expect(spec.fields.map(\.fieldID) == [1000, 1001])
        #expect(throws: IngestError.self) { try SchemaText.partitionSpec("hour(id)", schema: schema) }
        #expect(throws: IngestError.self) { try SchemaText.schema("id lng") }
    }
}
