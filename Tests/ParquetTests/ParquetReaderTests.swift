import Foundation
import IcebergCore
import Testing
import TestSupport

@testable import Parquet

/// Values compared exactly, NaNs included (by bit pattern).
func sameValues(_ a: ColumnData.Values, _ b: ColumnData.Values) -> Bool {
    switch (a, b) {
    case (.boolean(let x), .boolean(let y)): x == y
    case (.int32(let x), .int32(let y)): x == y
    case (.int64(let x), .int64(let y)): x == y
    case (.float(let x), .float(let y)): x.map(\.bitPattern) == y.map(\.bitPattern)
    case (.double(let x), .double(let y)): x.map(\.bitPattern) == y.map(\.bitPattern)
    case (.bytes(let xb, let xo), .bytes(let yb, let yo)): xb == yb && xo == yo
    default: false
    }
}

@Suite struct ParquetReaderTests {
    static let rows = 3_000

    @Test(arguments: ParquetCompression.allCases) func ourFilesRoundTrip(_ codec: ParquetCompression) throws {
        var options = ParquetWriterOptions()
        options.compression = codec
        options.pageRowLimit = 700
        options.rowGroupSizeBytes = 100_000
        let writer = ParquetFileWriter(schema: ParquetSamples.schema, options: options, output: MemoryParquetOutput())
        for start in stride(from: 0, to: Self.rows, by: 1_000) {
            try writer.write(ParquetSamples.columns(range: start..<start + 1_000))
        }
        let written = try writer.close()
        let file = try ParquetFileReader(bytes: writer.output.bytes, source: "ours.parquet")
        #expect(file.metadata.rowCount == Int64(Self.rows))
        #expect(file.metadata.columns.map(\.fieldID) == ParquetSamples.schema.columns.map(\.fieldID))
        #expect(file.metadata.columns.map(\.type) == ParquetSamples.schema.columns.map(\.type))
        #expect(file.metadata.rowGroups.count == 3)
        for (c, column) in ParquetSamples.schema.columns.enumerated() {
            var offset = 0
            for g in 0..<file.metadata.rowGroups.count {
                let groupRows = Int(file.metadata.rowGroups[g].rowCount)
                let expected = ParquetSamples.columns(range: offset..<offset + groupRows)[c]
                let read = try file.readColumn(c, rowGroup: g)
                #expect(sameValues(read.values, expected.values), "\(column.name) row group \(g)")
                #expect(read.validity == expected.validity, "\(column.name) nulls in row group \(g)")
                offset += groupRows
            }
        }
        // Metrics recomputed from the footer agree with what the writer returned.
        #expect(try file.metrics() == written)
    }

    /// A zero bound is -0.0 as a minimum and +0.0 as a maximum, whichever zeros a column has and in which
    /// order (Iceberg orders -0.0 before +0.0, and a bound naming only one zero would let a reader skip the
    /// other); a column of NaNs has no bounds.
    @Test func zeroBoundsHoldBothZeros() throws {
        let schema = ParquetSchema(columns: [
            ParquetColumn(name: "d", fieldID: 1, type: .double, isRequired: true),
            ParquetColumn(name: "f", fieldID: 2, type: .float, isRequired: true),
        ])
        func bound(_ bytes: [UInt8]?) -> Double? {
            guard let bytes else { return nil }
            return bytes.count == 8
                ? Double(bitPattern: bytes.withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)) })
                : Double(Float(bitPattern: bytes.withUnsafeBytes { UInt32(littleEndian: $0.loadUnaligned(as: UInt32.self)) }))
        }
        for (values, low, high) in [
            ([0.0, -0.0], -0.0, 0.0), ([-0.0, 0.0], -0.0, 0.0), ([0.0], -0.0, 0.0), ([-0.0], -0.0, 0.0), ([-0.0, 5], -0.0, 5), ([0.0, -5], -5, 0.0),
            ([.nan, 0.0], -0.0, 0.0),
        ] as [([Double], Double, Double)] {
            let writer = ParquetFileWriter(schema: schema, options: ParquetWriterOptions(), output: MemoryParquetOutput())
            try writer.write([ColumnData(values: .double(values)), ColumnData(values: .float(values.map { Float($0) }))])
            let metrics = try writer.close()
            for field in [1, 2] {
                let (lo, hi) = (bound(metrics.lowerBounds[field]), bound(metrics.upperBounds[field]))
                #expect(lo == low && lo?.sign == low.sign, "\(values) field \(field): lower \(String(describing: lo))")
                #expect(hi == high && hi?.sign == high.sign, "\(values) field \(field): upper \(String(describing: hi))")
            }
        }
        let writer = ParquetFileWriter(schema: schema, options: ParquetWriterOptions(), output: MemoryParquetOutput())
        try writer.write([ColumnData(values: .double([.nan, .nan])), ColumnData(values: .float([.nan, .nan]))])
        let metrics = try writer.close()
        #expect(metrics.lowerBounds[1] == nil && metrics.upperBounds[2] == nil && metrics.nanValueCounts[1] == 2)
    }

    /// The writer takes byte strings' bounds from the dictionary's distinct values and numbers' from a hash
    /// table of their bit patterns: the bounds, the values and the dictionary indices equal what a plain
    /// encoding (no dictionary) gives, on values whose extremes sit mid-column and repeat.
    @Test func dictionaryEncodingKeepsValuesAndBounds() throws {
        let schema = ParquetSchema(columns: [
            ParquetColumn(name: "s", fieldID: 1, type: .string, isRequired: true),
            ParquetColumn(name: "l", fieldID: 2, type: .long, isRequired: true),
            ParquetColumn(name: "d", fieldID: 3, type: .double, isRequired: true),
        ])
        let rows = 5_000
        var strings = ColumnData.byteArrays(capacity: rows)
        var longs: [Int64] = [], doubles: [Double] = []
        for i in 0..<rows {
            // Extremes in the middle, each repeated; lengths around the 8-byte word of the hash.
            let text = i == 2_500 ? "" : i == 2_501 ? "zzzzzzzzzzzzzzzzz" : "v-\(String(repeating: "x", count: i % 11))\((i &* 7_919) % 300)"
            strings.append(string: text)
            longs.append(i == 3_000 ? .min : i == 3_001 ? .max : Int64((i &* 31) % 97) - 48)
            doubles.append(i == 1_000 ? -0.5e300 : Double((i &* 13) % 101) / 3)
        }
        func write(dictionary: Bool) throws -> (ParquetFileMetrics, ParquetFileReader) {
            var options = ParquetWriterOptions()
            options.useDictionary = dictionary
            let writer = ParquetFileWriter(schema: schema, options: options, output: MemoryParquetOutput())
            try writer.write([strings, ColumnData(values: .int64(longs)), ColumnData(values: .double(doubles))])
            let metrics = try writer.close()
            return (metrics, try ParquetFileReader(bytes: writer.output.bytes, source: "dictionary-\(dictionary)"))
        }
        let (withDictionary, dictionaryFile) = try write(dictionary: true)
        let (plain, _) = try write(dictionary: false)
        #expect(withDictionary.lowerBounds == plain.lowerBounds && withDictionary.upperBounds == plain.upperBounds)
        #expect(withDictionary.lowerBounds[1] == [] && withDictionary.upperBounds[1] == Array("zzzzzzzzzzzzzzz{".utf8), "truncated to 16 bytes, the last one raised")
        #expect(withDictionary.lowerBounds[2] == withUnsafeBytes(of: Int64.min.littleEndian) { Array($0) })
        #expect(dictionaryFile.metadata.columns.count == 3)
        #expect(sameValues(try dictionaryFile.readColumn(0, rowGroup: 0).values, strings.values))
        #expect(sameValues(try dictionaryFile.readColumn(1, rowGroup: 0).values, .int64(longs)))
        #expect(sameValues(try dictionaryFile.readColumn(2, rowGroup: 0).values, .double(doubles)))
    }

    /// The byte-string dictionary's hash table keeps 24 hash bits and the length (up to 255) per slot, and a
    /// short value's bytes as a word: values that differ only in trailing zero bytes, long values of equal
    /// length and prefix, lengths past 255, and enough distinct values to grow the table several times each
    /// get their own entry, and every index names an equal value.
    @Test func theDictionaryTellsCloseValuesApart() throws {
        var texts: [[UInt8]] = [[], [0], [0, 0], Array("a".utf8), Array("a".utf8) + [0], Array("a".utf8) + [0, 0, 0, 0, 0, 0, 0]]
        for length in [254, 255, 256, 300] { texts.append(Array(repeating: UInt8(ascii: "p"), count: length)) }
        texts.append(Array(repeating: UInt8(ascii: "p"), count: 300) + [1])
        for i in 0..<40_000 { texts.append(Array("user-\(i)".utf8)) }  // 6 to 10 bytes: both sides of the word
        // Each value three times, interleaved.
        let column = texts + texts.reversed() + texts
        var bytes: [UInt8] = [], offsets: [Int32] = [0]
        for text in column {
            bytes += text
            offsets.append(Int32(bytes.count))
        }
        let built = try #require(ByteArrayDictionary.build(bytes: bytes, offsets: offsets, fixed: false, limit: 1 << 30))
        #expect(built.count == texts.count)
        let firsts = try #require(built.firsts)
        func value(_ row: Int) -> ArraySlice<UInt8> { bytes[Int(offsets[row])..<Int(offsets[row + 1])] }
        let wrong = column.indices.filter { value(Int(firsts[Int(built.indices[$0])])) != value($0) }
        #expect(wrong.isEmpty, "rows whose index names another value: \(wrong.prefix(5))")
    }

    /// A dictionary attempt gives up after a sample of nearly distinct values whose dictionary would pass the
    /// limit (ids, amounts: PLAIN, as when it hashed on to the limit); columns of random values from a set
    /// the limit can hold keep their dictionary, though their sample is 92% distinct; the documented loss is a
    /// column whose first values are distinct and whose later ones repeat them. Every column reads back whole.
    @Test func dictionaryAttemptStopsAfterADistinctSample() throws {
        let rows = 250_000
        var rng = SplitMix64(seed: 5)
        let ids = (0..<rows).map { Int64($0) }
        let amounts = (0..<rows).map { _ in Double(rng.next() % 1_000_000) / 100 }
        let users = (0..<rows).map { _ in Int64(rng.next() % 100_000) }
        let cycle = (0..<rows).map { Int64($0 % 20_000) }
        var names = ColumnData.byteArrays(capacity: rows)
        var tags = ColumnData.byteArrays(capacity: rows)
        for _ in 0..<rows {
            names.append(string: "u\(rng.next() % 100_000)")
            tags.append(string: "event-\(rng.next())")
        }
        let columns: [(String, ParquetValueType, ColumnData, Bool)] = [
            ("id", .long, ColumnData(values: .int64(ids)), false),
            ("amount", .double, ColumnData(values: .double(amounts)), false),
            ("user", .long, ColumnData(values: .int64(users)), true),
            ("cycle", .long, ColumnData(values: .int64(cycle)), false),
            ("name", .string, names, true),
            ("tag", .string, tags, false),
        ]
        let schema = ParquetSchema(columns: columns.enumerated().map { ParquetColumn(name: $1.0, fieldID: $0 + 1, type: $1.1, isRequired: true) })
        let writer = ParquetFileWriter(schema: schema, options: ParquetWriterOptions(), output: MemoryParquetOutput())
        try writer.write(columns.map(\.2))
        _ = try writer.close()
        let file = try ParquetFileReader(bytes: writer.output.bytes, source: "sampled")
        for (index, column) in columns.enumerated() {
            #expect((file.metadata.rowGroups[0].chunks[index].dictionaryPageOffset != nil) == column.3, "\(column.0)")
            #expect(sameValues(try file.readColumn(index, rowGroup: 0).values, column.2.values), "\(column.0)")
        }
        // The rule itself: a sample 99% distinct whose page would pass 1.5 times the limit; never for short columns.
        #expect(DictionarySample.givesUp(distinct: 16_384, bytes: 131_072, of: 250_000, limit: 1 << 20))
        #expect(!DictionarySample.givesUp(distinct: 15_100, bytes: 131_072, of: 250_000, limit: 1 << 20))
        #expect(!DictionarySample.givesUp(distinct: 16_384, bytes: 131_072, of: 100_000, limit: 1 << 20))
        #expect(!DictionarySample.givesUp(distinct: 16_384, bytes: 131_072, of: 50_000, limit: 1 << 20))
    }

    /// A row group written in several batches holds their values in the order written: each batch's byte
    /// string offsets move past the bytes of the batches before it, with an empty batch, empty strings and a
    /// nullable column among them, dictionary encoded or plain.
    @Test(arguments: [true, false]) func aRowGroupsBatchesJoinInOrder(dictionary: Bool) throws {
        let schema = ParquetSchema(columns: [
            ParquetColumn(name: "s", fieldID: 1, type: .string, isRequired: true),
            ParquetColumn(name: "o", fieldID: 2, type: .string, isRequired: false),
        ])
        let parts: [[String]] = [["a", "", "bcd"], [], ["", "efghijklmnopqrstuvwxyz"], ["z", "a", "bcd"]]
        var options = ParquetWriterOptions()
        options.useDictionary = dictionary
        let writer = ParquetFileWriter(schema: schema, options: options, output: MemoryParquetOutput())
        var all = ColumnData.byteArrays()
        var optional: [String?] = []
        for part in parts {
            var strings = ColumnData.byteArrays(capacity: part.count), present = ColumnData.byteArrays(capacity: part.count)
            var validity: [Bool] = []
            for (k, text) in part.enumerated() {
                strings.append(string: text)
                all.append(string: text)
                // Every other value of the nullable column is null.
                validity.append(k % 2 == 0)
                if k % 2 == 0 { present.append(string: text + "!") }
                optional.append(k % 2 == 0 ? text + "!" : nil)
            }
            try writer.write([strings, ColumnData(values: present.values, validity: validity)])
        }
        _ = try writer.close()
        let file = try ParquetFileReader(bytes: writer.output.bytes, source: "batches-\(dictionary)")
        #expect(file.metadata.rowGroups.count == 1)
        #expect((file.metadata.rowGroups[0].chunks[0].dictionaryPageOffset != nil) == dictionary)
        #expect(sameValues(try file.readColumn(0, rowGroup: 0).values, all.values))
        let read = try file.readColumn(1, rowGroup: 0)
        var expected = ColumnData.byteArrays()
        for text in optional.compactMap({ $0 }) { expected.append(string: text) }
        #expect(sameValues(read.values, expected.values))
        #expect(read.validity == optional.map { $0 != nil })
    }

    /// A dictionary's hash table is sized once from its sample (``DictionarySample/expectedDistinct(_:inFirst:of:)``),
    /// and still grows when the guess was low: columns whose first values repeat a few and whose later ones
    /// are new keep every value and index right, for byte strings and numbers.
    @Test func theDictionaryGrowsPastItsGuess() throws {
        // The guess: random draws from 100,000 values show about 15,100 distinct in 16,384 and 91,800 in 250,000.
        let guess = DictionarySample.expectedDistinct(15_100, inFirst: 16_384, of: 250_000)
        #expect((90_000...94_000).contains(guess), "\(guess)")
        #expect(DictionarySample.expectedDistinct(16_384, inFirst: 16_384, of: 250_000) == 250_000, "all distinct: as many as the values")
        #expect(DictionarySample.expectedDistinct(8, inFirst: 16_384, of: 250_000) == 8)
        #expect(DictionarySample.capacity(for: 91_800, loadNumerator: 3, loadDenominator: 4) == 131_072)
        #expect(DictionarySample.capacity(for: 3, loadNumerator: 1, loadDenominator: 2) == 1_024)

        // 20,000 values cycling over 100 (the sample guesses 100), then 30,000 new ones, short and long, between
        // more of the first 100 (found again in the table grown past the sample's room).
        let texts = (0..<80_000).map { i in
            Array((i < 20_000 || i % 2 == 1 ? "c-\(i % 100)" : i % 4 == 0 ? "n\(i)" : "late-value-\(i)").utf8)
        }
        var bytes: [UInt8] = [], offsets: [Int32] = [0]
        for text in texts {
            bytes += text
            offsets.append(Int32(bytes.count))
        }
        let built = try #require(ByteArrayDictionary.build(bytes: bytes, offsets: offsets, fixed: false, limit: 1 << 30))
        #expect(built.count == 30_100)
        let firsts = try #require(built.firsts)
        let wrong = texts.indices.filter { texts[Int(firsts[Int(built.indices[$0])])] != texts[$0] }
        #expect(wrong.isEmpty, "rows whose index names another value: \(wrong.prefix(5))")

        let longs = (0..<80_000).map { (i: Int) -> Int64 in
            let repeated = i < 20_000 || i % 2 == 1
            return Int64(repeated ? i % 100 : i * 7)
        }
        let schema = ParquetSchema(columns: [ParquetColumn(name: "l", fieldID: 1, type: .long, isRequired: true)])
        let writer = ParquetFileWriter(schema: schema, options: ParquetWriterOptions(), output: MemoryParquetOutput())
        try writer.write([ColumnData(values: .int64(longs))])
        _ = try writer.close()
        let file = try ParquetFileReader(bytes: writer.output.bytes, source: "grows")
        #expect(file.metadata.rowGroups[0].chunks[0].dictionaryPageOffset != nil)
        #expect(sameValues(try file.readColumn(0, rowGroup: 0).values, .int64(longs)))
    }

    /// Files written by pyarrow (data page v1 and v2, dictionary on and off, every codec) read back to the
    /// values pyarrow was given.
    @Test(arguments: ParquetCompression.allCases) func pyarrowFilesReadByUs(_ codec: ParquetCompression) async throws {
        let dir = try TestEnvironment.temporaryDirectory("pq-read")
        defer { TestEnvironment.cleanUp(dir) }
        try await PythonTool.run(ParquetSamples.pythonExpected + "\n" + #"""
        import sys, decimal, pyarrow as pa, pyarrow.parquet as pq
        rows, codec, out = int(sys.argv[1]), sys.argv[2], sys.argv[3]
        cols = [("b", pa.bool_()), ("i", pa.int32()), ("l", pa.int64()), ("f", pa.float32()), ("d", pa.float64()),
                ("dec9", pa.decimal128(9, 2)), ("dec18", pa.decimal128(18, 3)), ("dec38", pa.decimal128(38, 4)),
                ("date", pa.date32()), ("time", pa.time64("us")), ("ts", pa.timestamp("us")),
                ("tstz", pa.timestamp("us", tz="UTC")), ("s", pa.string()), ("u", pa.binary(16)),
                ("fx", pa.binary(3)), ("bin", pa.binary())]
        fields, arrays = [], []
        for c, (name, typ) in enumerate(cols):
            required = name == "i"
            fields.append(pa.field(name, typ, nullable=not required, metadata={"PARQUET:field_id": str(c + 1)}))
            arrays.append(pa.array([None if is_null(r, c, required) else expected(name, r) for r in range(rows)], typ))
        table = pa.table(arrays, schema=pa.schema(fields))
        for version in ("1.0", "2.0"):
            for dictionary in (True, False):
                pq.write_table(table, f"{out}/{version}-{dictionary}.parquet", compression=codec, use_dictionary=dictionary,
                               data_page_version=version, store_decimal_as_integer=True, data_page_size=8192)
        """#, arguments: [String(Self.rows), codec.name, dir.path])
        for name in ["1.0-True", "1.0-False", "2.0-True", "2.0-False"] {
            let bytes = try [UInt8](Data(contentsOf: dir.appendingPathComponent("\(name).parquet")))
            let file = try ParquetFileReader(bytes: bytes, source: name)
            #expect(file.metadata.rowCount == Int64(Self.rows))
            #expect(file.metadata.columns.map(\.fieldID) == ParquetSamples.schema.columns.map(\.fieldID))
            let expectedAll = ParquetSamples.columns(rows: Self.rows)
            for (c, column) in ParquetSamples.schema.columns.enumerated() where column.name != "u" {
                #expect(file.metadata.columns[c].type == column.type, "\(name) \(column.name) type")
                let read = try file.readColumn(c, rowGroup: 0)
                #expect(sameValues(read.values, expectedAll[c].values), "\(name) \(column.name)")
                #expect(read.validity == expectedAll[c].validity, "\(name) \(column.name) nulls")
            }
            // Footer statistics become Iceberg metrics: 'i' is required, values -50 ... 49.
            let metrics = try file.metrics()
            #expect(metrics.lowerBounds[2] == withUnsafeBytes(of: Int32(-50).littleEndian) { Array($0) })
            #expect(metrics.nullValueCounts[2] == 0)
            #expect(metrics.nanValueCounts[4] == 1)
        }
    }

    /// A few thousand mutated files (a fixed seed: the same ones on every machine; `scripts/fuzz.sh parquet`
    /// explores further): each one reads or throws ParquetError; nothing traps or hangs.
    @Test func fuzzedFilesNeverCrash() throws {
        var options = ParquetWriterOptions()
        options.compression = .snappy
        options.pageRowLimit = 50
        let writer = ParquetFileWriter(schema: ParquetSamples.schema, options: options, output: MemoryParquetOutput())
        try writer.write(ParquetSamples.columns(rows: 200))
        _ = try writer.close()
        let original = writer.output.bytes
        var random = SplitMix64(seed: 20_261_129)
        var detected = 0
        let mutations = 3_000
        for _ in 0..<mutations {
            var bytes = original
            for _ in 0..<Int.random(in: 1...3, using: &random) {
                let at = Int.random(in: 0..<bytes.count, using: &random)
                switch Int.random(in: 0..<3, using: &random) {
                case 0: bytes[at] ^= UInt8.random(in: 1...255, using: &random)
                case 1: bytes[at] = [0x00, 0xff, 0x7f, 0x80][Int.random(in: 0..<4, using: &random)]
                default: bytes.insert(UInt8.random(in: 0...255, using: &random), at: at)
                }
            }
            do {
                let file = try ParquetFileReader(bytes: bytes, source: "fuzz.parquet")
                for g in file.metadata.rowGroups.indices {
                    for c in file.metadata.columns.indices { _ = try file.readColumn(c, rowGroup: g) }
                }
            } catch is ParquetError {
                detected += 1
            }
        }
        #expect(detected > mutations / 10, "\(detected) of \(mutations) mutations detected")
    }
}
