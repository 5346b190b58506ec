import Foundation
import IcebergCore

/// Parses JSON records into a ``RecordBatch``: JSON lines, and Firehose's concatenated records with no
/// delimiter (`{...}{...}`), which are the same stream of top-level objects separated by optional
/// whitespace. Scalar values go straight from the bytes into the column builders; only nested values
/// (struct, list, map columns) are parsed into a tree first.
///
/// The input is fed in chunks; a record cut by the chunk's end is left for the next call.
///
/// ```swift
/// var parser = JSONRecordParser(layout: layout, options: ConversionOptions(), source: "s3://raw/a.gz", drift: .ignore)
/// let used = try parser.parse(buffer, isFinal: false, into: &batch) { bad in skipped.append(bad) }
/// ```
package struct JSONRecordParser: RecordParser {
    package let layout: ColumnLayout
    package let options: ConversionOptions
    package private(set) var source: String
    package private(set) var position = InputPosition()
    package private(set) var counts = ParseCounts()
    /// The top-level fields the record being parsed has set.
    private var seen: FieldMarks
    /// The key order learned from the records: `following[k]` is the field whose key came after field `k`'s
    /// the last time, and `following[count]` the field whose key came first in a record (schema order to
    /// begin with). Records of one kind keep their key order, so the next key is matched in place against
    /// this guess, the first one of a record included.
    private var following: [Int]
    /// The field whose key came last in the record being parsed (the field count at a record's start).
    private var previous: Int
    /// Keys found where ``following`` said they would be (tests check the guess is taken).
    package private(set) var predictedKeys = 0
    private var scratch: [UInt8] = []
    /// The last date a timestamp in place had (records of an hour share it).
    private var dayCache = ScalarText.DayCache()
    /// ``ScalarText/powersOf10``, held here: a global's lazy initialization is checked with a call on each read.
    private let powersOf10 = ScalarText.powersOf10
    /// Per top-level field, looked up per value without copying the field's description.
    private let primitiveTypes: [PrimitiveType?]
    private let firstLeaves: [Int]
    private let required: [Bool]
    private let names: [[UInt8]]
    /// Per top-level field, the key as two masked words, for matching the expected next key in place.
    private let keyWords: [KeyWords?]
    /// Per top-level field, the value forms parsed before the general conversion.
    private let fastPaths: [FastPath]
    /// Values the fast paths parsed, held per field until a run of them goes to the column.
    private var staging: JSONValueStaging
    /// Per top-level field, the shape of a struct or list value for the direct walk (nil: primitive).
    private let nestedShapes: [NestedShape?]
    /// The field's leaf sizes before a direct walk, to cut back to when it gives up.
    var savedSlots: [Int] = []
    /// Whether struct and list values take the direct walk (off: always the tree path; tests and the fuzzer
    /// compare the two).
    package var walksNestedValues = true
    /// Whether keys are matched in place against the expected next key and common scalar forms parsed in
    /// place (off: every key scanned and looked up, every value through the general conversion; tests and
    /// the fuzzer compare the two).
    package var takesFastPaths = true
    /// Struct and list values the direct walk took whole.
    package internal(set) var directNestedValues = 0
    /// Fields the schema lacks, values needing wider types, rescued values.
    package private(set) var drift: DriftTracker
    /// Records longer than this are bad records (``RecordStream`` sets it).
    package var maxRecordBytes = Int.max
    /// Whether a value of the current record needs a wider column type.
    private var recordNeedsWidening = false
    /// The line at byte `index` of the buffer being parsed: lines are counted in spans of records (one
    /// vector pass, not a scan per record), and up to a record when a message needs its line.
    private var lineMark = (index: 0, line: 1)
    /// Where the record being parsed starts in that buffer.
    private var recordStart = 0
    /// Routing by a field: the decisions that hold for the pass, by the route value's text as in the input (a
    /// handful of values in practice; unbounded values are asked each time past 32).
    private var routeDecisions: [(value: [UInt8], decision: RouteFilter.Decision)] = []

    package init(layout: ColumnLayout, options: ConversionOptions, source: String, drift: DriftPolicy = .ignore) {
        self.layout = layout
        self.drift = DriftTracker(policy: drift, layout: layout)
        self.options = options
        self.source = source
        seen = FieldMarks(count: layout.topLevel.count)
        following = Array(1...(layout.topLevel.count + 1))
        following[layout.topLevel.count] = 0
        previous = layout.topLevel.count
        primitiveTypes = layout.topLevel.map { $0.field.type.primitive }
        firstLeaves = layout.topLevel.map { $0.leaves.lowerBound }
        required = layout.topLevel.map { $0.field.isRequired }
        names = layout.topLevel.map(\.nameBytes)
        nestedShapes = layout.topLevel.map { $0.isPrimitive ? nil : NestedShape($0.field.type) }
        keyWords = names.map(KeyWords.init)
        fastPaths = primitiveTypes.map { type in
            switch type {
            case .long: .long
            case .double: .double
            case .string: .string
            case .timestamp, .timestamptz: .timestamp
            case .boolean: .boolean
            default: .none
            }
        }
        staging = JSONValueStaging(paths: fastPaths)
    }

    /// A key of up to 16 bytes as two little-endian words and their masks: whether the bytes at a position
    /// start with it is two loads, an and and a compare, with no scan and no call.
    struct KeyWords: Sendable {
        let words: SIMD2<UInt64>
        let masks: SIMD2<UInt64>
        let count: Int

        /// nil for a name longer than 16 bytes or holding a quote or backslash (in JSON text it would be
        /// escaped, so its bytes never appear as they are).
        init?(_ name: [UInt8]) {
            guard name.count <= 16, !name.contains(UInt8(ascii: "\"")), !name.contains(UInt8(ascii: "\\")) else { return nil }
            var words = SIMD2<UInt64>(), masks = SIMD2<UInt64>()
            for (k, byte) in name.enumerated() {
                words[k / 8] |= UInt64(byte) << (UInt64(k % 8) * 8)
                masks[k / 8] |= 0xff << (UInt64(k % 8) * 8)
            }
            (self.words, self.masks, count) = (words, masks, name.count)
        }

        /// Whether the bytes at `start` begin with the name; the caller makes sure 16 bytes can be read there.
        @inline(__always)
        func isPrefix(of b: UnsafeBufferPointer<UInt8>, at start: Int) -> Bool {
            let base = UnsafeRawPointer(b.baseAddress! + start)
            return SIMD2(base.loadUnaligned(as: UInt64.self), base.loadUnaligned(fromByteOffset: 8, as: UInt64.self)) & masks == words
        }
    }

    /// A primitive field whose common value forms are parsed in place (see ``fastValue(_:_:field:batch:)``).
    enum FastPath {
        case none, long, double, string, timestamp, boolean
    }

    /// Takes over the counts, drift and end position of a parser that read the next part of the same input.
    package mutating func absorb(_ part: JSONRecordParser) {
        counts.rows += part.counts.rows
        counts.badRecords += part.counts.badRecords
        drift.absorb(part.drift)
        directNestedValues += part.directNestedValues
        predictedKeys += part.predictedKeys
        following = part.following
        position = part.position
    }

    package mutating func abandonRecord() {
        counts.badRecords += 1
    }

    package mutating func startInput(source: String) {
        self.source = source
        position = InputPosition()
    }

    package mutating func advance(bytes: Int, lines: Int) {
        position.byteOffset += Int64(bytes)
        position.line += lines
    }

    /// The line the current record starts on: the newlines from the last count to the record's start are
    /// counted now (records only ever move forward in a buffer).
    private mutating func recordLine(_ b: UnsafeBufferPointer<UInt8>) -> Int {
        lineMark = (recordStart, recordPlace.line(b))
        return lineMark.line
    }

    /// Where the current record starts, for a message that may not be written: its line is counted only
    /// when the text is made.
    private var recordPlace: RecordPlace { RecordPlace(source: source, mark: lineMark, start: recordStart) }

    struct RecordPlace {
        let source: String
        let mark: (index: Int, line: Int)
        let start: Int
        /// The record's line: the mark's, plus the newlines from the mark to the record's start.
        func line(_ b: UnsafeBufferPointer<UInt8>) -> Int { mark.line + JSONRecordParser.newlines(b, from: mark.index, to: start) }
        /// `<source> line <N>`.
        func text(_ b: UnsafeBufferPointer<UInt8>) -> String { "\(source) line \(line(b))" }
    }

    /// Why scanning a record stopped.
    enum Stop: Error {
        /// The buffer ended inside the record.
        case needMore
        /// Not JSON: what was wrong, at which index of the buffer.
        case syntax(String, at: Int)
    }

    /// Parses every complete record in `buffer`; returns how many bytes were used (the rest starts an
    /// incomplete record: feed it again with more bytes). With `isFinal`, an incomplete record is bad.
    /// `onBadRecord` decides what a bad record does: throw to stop, or return to go on.
    package mutating func parse(
        _ buffer: UnsafeBufferPointer<UInt8>, isFinal: Bool, into batch: inout RecordBatch,
        onBadRecord: (BadRecord) throws -> Void
    ) throws -> Int {
        var i = 0
        let n = buffer.count
        lineMark = (0, position.line)
        // A copy of this parser (a part of a split object) shares the staging until one of them makes its own.
        if !staging.isUnique() { staging = JSONValueStaging(paths: fastPaths) }
        defer {
            position.byteOffset += Int64(i)
            position.line = lineMark.line + Self.newlines(buffer, from: lineMark.index, to: i)
            // Every value held goes to its column before the batch is the caller's again.
            flushStaged(into: &batch)
        }
        // One for the whole buffer, emptied at each record's start: a record's own optional would be
        // destroyed through a call per record, most of them with nothing to destroy.
        var problem: RecordProblem?
        while true {
            while i < n, buffer[i] <= 0x20 { i += 1 }
            if i == n { return i }
            let start = i
            recordStart = start
            // Lines are counted in spans of about 16 KiB, while the bytes just parsed are still in the cache:
            // counting a whole buffer at its end reads it from memory again.
            if start &- lineMark.index > 16_384 { _ = recordLine(buffer) }
            // Routing by a field: where the route scan ended the record this pass keeps.
            var routedEnd: Int?
            if let route = options.route {
                // Routing by a field: another table's record is skipped unparsed; an unroutable one is reported.
                var reason: String?
                do throws(Stop) {
                    let (value, end) = try Self.routeValueText(buffer, from: start, path: route.pathBytes)
                    i = end
                    if let value {
                        switch routeDecision(route, buffer, value, record: start..<end) {
                        case .keep:
                            routedEnd = end
                            i = start
                        case .elsewhere: continue
                        case .unroutable(let why): reason = why
                        }
                    } else {
                        reason = "the record has no value at the route field '\(route.pathText)' (missing, null, an object or an array)"
                    }
                } catch {
                    switch error {
                    case .needMore:
                        guard isFinal else {
                            i = start
                            return start
                        }
                        reason = "the input ends inside this record"
                        i = n
                    case .syntax(let why, _):
                        guard let next = Self.resync(buffer, from: start + 1) else {
                            guard isFinal else {
                                i = start
                                return start
                            }
                            reason = "not valid JSON: \(why)"
                            i = n
                            break
                        }
                        reason = "not valid JSON: \(why)"
                        i = next
                    }
                }
                if let reason {
                    let bad = BadRecord(
                        kind: .malformed, source: source, line: recordLine(buffer), byteOffset: position.byteOffset + Int64(start), field: route.pathText,
                        reason: "unroutable: \(reason)", raw: Array(buffer[start..<min(i, start + 1 << 20)]))
                    if route.unroutable(bad) {
                        throw IngestError(.badRecord, "\(bad.description) (bad-record policy 'fail')")
                    }
                    continue
                }
            }
            let mark = batch.beginRecord()
            seen.beginRecord()
            drift.beginRecord()
            recordNeedsWidening = false
            if problem != nil { problem = nil }
            do throws(Stop) {
                try parseRecord(buffer, &i, batch: &batch, problem: &problem)
            } catch {
                flushStaged(into: &batch)
                batch.rollBack(to: mark)
                if let routedEnd {
                    // The route scan ended the record: every table's pass goes on from the same place.
                    switch error {
                    case .needMore: problem = RecordProblem(.malformed, field: nil, "not valid JSON: the record ends inside a value", at: routedEnd)
                    case .syntax(let why, let at): problem = RecordProblem(.malformed, field: nil, "not valid JSON: \(why)", at: at)
                    }
                    i = routedEnd
                } else {
                switch error {
                case .needMore:
                    if !isFinal {
                        // The record is read again with more bytes: what it counted so far counts then.
                        drift.forgetRecord()
                        i = start
                        return start
                    }
                    problem = RecordProblem(.malformed, field: nil, "the input ends inside this record", at: n)
                    i = n
                case .syntax(let why, let at):
                    // Resynchronise at the record's line end, or after a `}` directly followed by `{`
                    // (Firehose's records on one line), whichever comes first after the record's start.
                    guard let next = Self.resync(buffer, from: start + 1) else {
                        if !isFinal {
                            drift.forgetRecord()
                            i = start
                            return start
                        }
                        problem = RecordProblem(.malformed, field: nil, "not valid JSON: \(why)", at: at)
                        i = n
                        break
                    }
                    problem = RecordProblem(.malformed, field: nil, "not valid JSON: \(why)", at: at)
                    i = next
                }
                }
            }
            if let routedEnd, i != routedEnd {
                if problem == nil {
                    problem = RecordProblem(.malformed, field: nil, "not valid JSON: the record does not end where its brackets do", at: i)
                }
                i = routedEnd
            }
            if problem == nil, i - start > maxRecordBytes {
                problem = RecordProblem(.malformed, field: nil, RecordStream.tooLong(maxRecordBytes), at: start)
            }
            if let problem, problem.kind == .unknownField {
                flushStaged(into: &batch)
                batch.rollBack(to: mark)
                throw IngestError(
                    .schemaDrift,
                    "\(source) line \(recordLine(buffer)), byte \(position.byteOffset + Int64(problem.at)): field '\(problem.field ?? "")' is not in the table's schema (drift policy 'fail'; use 'ignore', 'rescue' or 'add-columns')")
            }
            if let problem {
                flushStaged(into: &batch)
                batch.rollBack(to: mark)
                counts.badRecords += 1
                var bad = BadRecord(
                    kind: problem.kind, source: source, line: recordLine(buffer), byteOffset: position.byteOffset + Int64(problem.at), field: problem.field,
                    reason: problem.reason, raw: Array(buffer[start..<min(i, start + 1 << 20)]))
                bad.needsWidening = recordNeedsWidening
                try onBadRecord(bad)
            } else {
                batch.endRecord()
                counts.rows += 1
            }
        }
    }



    /// Where the record with this route value goes: from the decisions kept, else asked of the filter.
    private mutating func routeDecision(
        _ route: RouteFilter, _ b: UnsafeBufferPointer<UInt8>, _ value: RouteValueText, record: Range<Int>
    ) -> RouteFilter.Decision {
        let text = UnsafeBufferPointer(rebasing: b[value.range])
        for known in routeDecisions where known.value.count == text.count {
            if known.value.withUnsafeBufferPointer({ memcmp($0.baseAddress!, text.baseAddress!, text.count) == 0 }) { return known.decision }
        }
        let (decision, cacheable) = route.decide(Self.text(b, value), UnsafeBufferPointer(rebasing: b[record]))
        if cacheable, routeDecisions.count < 32, !text.isEmpty { routeDecisions.append((Array(text), decision)) }
        return decision
    }

    @inline(__always)
    private static func skipSpace(_ b: UnsafeBufferPointer<UInt8>, _ i: inout Int) {
        while i < b.count, b[i] <= 0x20 { i += 1 }
    }

    /// Parses one object into the batch. A value that does not fit the schema is noted in `problem` (the
    /// first one only) and the record is still scanned to its end, so the next record is found exactly.
    private mutating func parseRecord(
        _ b: UnsafeBufferPointer<UInt8>, _ i: inout Int, batch: inout RecordBatch,
        problem: inout RecordProblem?
    ) throws(Stop) {
        let n = b.count
        guard b[i] == UInt8(ascii: "{") else { throw .syntax("a record must be a JSON object, found '\(Character(Unicode.Scalar(b[i])))'", at: i) }
        i += 1
        previous = seen.count
        Self.skipSpace(b, &i)
        guard i < n else { throw .needMore }
        if b[i] == UInt8(ascii: "}") {
            i += 1
        } else {
            while true {
                guard i < n else { throw .needMore }
                guard b[i] == UInt8(ascii: "\"") else { throw .syntax("expected a key in double quotes", at: i) }
                let keyStart = i + 1
                let predicted: Int?
                let keyEnd: Int, keyEscaped: Bool
                if let expected = expectedKey(b, at: keyStart) {
                    // The key the previous record had next, matched in place.
                    (predicted, keyEnd, keyEscaped) = (expected.field, expected.end, false)
                } else {
                    (keyEnd, keyEscaped, _) = try Self.scanString(b, from: keyStart)
                    predicted = nil
                }
                i = keyEnd + 1
                Self.skipSpace(b, &i)
                guard i < n else { throw .needMore }
                guard b[i] == UInt8(ascii: ":") else { throw .syntax("expected ':' after a key", at: i) }
                i += 1
                Self.skipSpace(b, &i)
                guard i < n else { throw .needMore }
                let field = predicted ?? fieldIndex(b, keyStart, keyEnd, escaped: keyEscaped)
                if let field {
                    if seen.contains(field) {
                        _ = try Self.skipValue(b, &i)
                        if problem == nil {
                            problem = RecordProblem(.malformed, field: layout.topLevel[field].name, "the key appears twice in the record", at: keyStart)
                        }
                    } else {
                        seen.insert(field)
                        try parseValue(b, &i, field: field, batch: &batch, problem: &problem)
                    }
                } else {
                    let key = keyEscaped ? Self.unescapedString(b, keyStart, keyEnd) : String(decoding: UnsafeBufferPointer(rebasing: b[keyStart..<keyEnd]), as: UTF8.self)
                    let place = recordPlace
                    drift.unknownField(key, at: place.text(b))
                    let valueStart = i
                    _ = try Self.skipValue(b, &i)
                    if drift.policy == .fail {
                        if problem == nil { problem = RecordProblem(.unknownField, field: key, "field '\(key)' is not in the table's schema", at: keyStart) }
                    } else if drift.wantsSample(key) {
                        drift.sample(key, try? JSONValue.parse(Array(b[valueStart..<i]), source: source))
                    }
                    if drift.rescues { drift.rescue(key: key, json: UnsafeBufferPointer(rebasing: b[valueStart..<i])) }
                }
                Self.skipSpace(b, &i)
                guard i < n else { throw .needMore }
                if b[i] == UInt8(ascii: ",") {
                    i += 1
                    Self.skipSpace(b, &i)
                    continue
                }
                guard b[i] == UInt8(ascii: "}") else { throw .syntax("expected ',' or '}' in an object", at: i) }
                i += 1
                break
            }
        }
        if let rescueField = drift.rescueField, !seen.contains(rescueField) {
            seen.insert(rescueField)
            flushStaged(rescueField, into: &batch)
            drift.finishRecord(into: &batch)
        }
        // Fields the record did not have are null; a required one is a problem.
        guard !seen.isComplete else { return }
        for index in 0..<seen.count where !seen.contains(index) {
            if required[index] {
                let name = layout.topLevel[index].name
                if problem == nil { problem = RecordProblem(.missingRequired, field: name, "required field '\(name)' is missing", at: i - 1) }
            } else if takesFastPaths, fastPaths[index] != .none {
                stageNull(index, batch: &batch)
            } else {
                batch.appendNull(field: index)
            }
        }
    }

    /// The field whose key came after the previous key the last time (``following``), when its name and a
    /// closing quote are at `start`, compared as two words, with the index of that quote; nil otherwise (then
    /// the key is scanned and looked up).
    @inline(__always)
    private mutating func expectedKey(_ b: UnsafeBufferPointer<UInt8>, at start: Int) -> (field: Int, end: Int)? {
        let guess = following[previous]
        guard takesFastPaths, guess < keyWords.count, start + 17 <= b.count, let key = keyWords[guess] else { return nil }
        guard key.isPrefix(of: b, at: start), b[start + key.count] == UInt8(ascii: "\"") else { return nil }
        previous = guess
        predictedKeys += 1
        return (guess, start + key.count)
    }

    /// The schema field a key names; tries the guess from the learned key order first, and learns the key's
    /// place when the guess was wrong.
    @inline(__always)
    private mutating func fieldIndex(_ b: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int, escaped: Bool) -> Int? {
        let found: Int?
        if escaped {
            let key = Self.unescapedString(b, start, end)
            found = layout.topLevel.firstIndex { $0.name == key }
        } else {
            let length = end - start
            func matches(_ k: Int) -> Bool {
                let name = names[k]
                guard name.count == length else { return false }
                return name.withUnsafeBufferPointer { nb in
                    memcmp(nb.baseAddress!, b.baseAddress! + start, length) == 0
                }
            }
            let guess = following[previous]
            found = guess < names.count && matches(guess) ? guess : names.indices.first(where: matches)
        }
        guard let found else { return nil }
        following[previous] = found
        previous = found
        return found
    }

    /// Parses one field's value into its column. A value that does not fit is noted in `problem` (or kept in
    /// the rescued data); a value that is not JSON throws.
    private mutating func parseValue(
        _ b: UnsafeBufferPointer<UInt8>, _ i: inout Int, field: Int, batch: inout RecordBatch, problem: inout RecordProblem?
    ) throws(Stop) {
        guard let type = primitiveTypes[field] else {
            try parseNested(b, &i, field: field, batch: &batch, problem: &problem)
            return
        }
        if takesFastPaths, try fastValue(b, &i, field: field, batch: &batch) { return }
        // The general conversion appends to the column itself: the values held for it go first.
        flushStaged(field, into: &batch)
        let valueStart = i
        let failure = try parseScalar(b, &i, field: field, type: type, batch: &batch)
        guard let failure else { return }
        let name = layout.topLevel[field].name
        if drift.policy != .fail, let wider = failure.widening {
            recordNeedsWidening = true
            drift.widen(name, to: wider)
        }
        if drift.rescues, !required[field] {
            // Keep the value in the rescued data; the column is null.
            drift.rescue(key: name, json: UnsafeBufferPointer(rebasing: b[valueStart..<i]))
            batch.leaves[firstLeaves[field]].appendUndefined(definition: 0)
            return
        }
        // The record is rolled back once scanned to its end.
        if problem == nil { problem = RecordProblem(failure, field: name, at: valueStart) }
    }

    /// A struct, list or map value: finds its extent, parses it as a tree and shreds it into the leaves.
    /// Fields its struct types lack are drift, counted even in a bad record.
    private mutating func parseNested(
        _ b: UnsafeBufferPointer<UInt8>, _ i: inout Int, field: Int, batch: inout RecordBatch, problem: inout RecordProblem?
    ) throws(Stop) {
        if walksNestedValues, problem == nil, let shape = nestedShapes[field], !shape.isTree, shredDirectly(b, &i, field: field, shape: shape, batch: &batch) { return }
        let top = layout.topLevel[field]
        let valueStart = i
        let end = try Self.skipValue(b, &i)
        let bytes = UnsafeBufferPointer(rebasing: b[valueStart..<end])
        guard problem == nil else {
            // The record is bad already; its nested fields the schema lacks are still drift to sample.
            if drift.policy != .fail, let value = try? JSONValue.parse(Array(bytes), source: source) {
                var nested: [String: JSONValue] = [:]
                value.unknownKeys(of: top.field.type, path: top.name, into: &nested)
                for (path, sample) in nested { drift.sample(path, sample) }
            }
            batch.appendNull(field: field)
            return
        }
        do {
            let value = try JSONValue.parse(Array(bytes), source: source)
            var nested: [String: JSONValue] = [:]
            value.unknownKeys(of: top.field.type, path: top.name, into: &nested)
            let place = recordPlace
            for (path, sample) in nested.sorted(by: { $0.key < $1.key }) {
                drift.unknownField(path, at: place.text(b))
                drift.sample(path, sample)
                if drift.policy == .fail, problem == nil {
                    problem = RecordProblem(.unknownField, field: path, "field '\(path)' is not in the table's schema", at: valueStart)
                }
            }
            if drift.rescues, !nested.isEmpty {
                // The column keeps what its type holds; the whole value goes to the rescued data.
                drift.rescue(key: top.name, json: bytes)
            }
            try batch.appendNested(value, field: field, options: options)
        } catch let failure as ConversionFailure {
            problem = RecordProblem(failure, field: top.name, at: valueStart)
        } catch {
            problem = RecordProblem(.malformed, field: top.name, "not valid JSON: \(error)", at: valueStart)
        }
    }

    /// The common forms of a long, double, string, timestamp or boolean value, appended in place: an integer
    /// of up to 18 digits, a decimal of up to 15 significant digits, a string without escapes, an ISO
    /// timestamp, `true` and `false`.
    /// A `null` of an optional field too. Each holds exactly what ``parseScalar(_:_:field:type:batch:)`` would
    /// append (``staging``); anything else (and anything that does not fit) returns false with `i` untouched,
    /// for that to take.
    @inline(__always)
    private mutating func fastValue(_ b: UnsafeBufferPointer<UInt8>, _ i: inout Int, field: Int, batch: inout RecordBatch) throws(Stop) -> Bool {
        let c = b[i], n = b.count
        let path = fastPaths[field]
        if c == UInt8(ascii: "n"), path != .none {
            // `null` as one word; anything else (a partial literal, a required field) as the general path says.
            guard !required[field], i + 4 <= n, UnsafeRawPointer(b.baseAddress! + i).loadUnaligned(as: UInt32.self) == UInt32(littleEndian: 0x6c6c_756e) else { return false }
            stageNull(field, batch: &batch)
            i += 4
            return true
        }
        switch path {
        case .none:
            return false
        case .long:
            guard c == UInt8(ascii: "-") || c &- 48 < 10 else { return false }
            let digits = c == UInt8(ascii: "-") ? i + 1 : i
            var v: Int64 = 0
            let k = Self.digitRun(b, from: digits, upTo: 19, into: &v)
            guard k > digits, k - digits <= 18, k < n, !Self.isNumberByte(b[k]) else { return false }
            let slot = stagedSlot(field, batch: &batch)
            staging.int64s(field)[slot] = c == UInt8(ascii: "-") ? -v : v
            i = k
        case .double:
            guard c == UInt8(ascii: "-") || c &- 48 < 10 else { return false }
            let digits = c == UInt8(ascii: "-") ? i + 1 : i
            var mantissa: Int64 = 0
            var k = Self.digitRun(b, from: digits, upTo: 16, into: &mantissa)
            var count = k - digits, fraction = 0
            guard count > 0 else { return false }
            if k < n, b[k] == UInt8(ascii: ".") {
                let fractionStart = k + 1
                k = Self.digitRun(b, from: fractionStart, upTo: 16 - count, into: &mantissa)
                fraction = k - fractionStart
                guard fraction > 0 else { return false }
                count += fraction
            }
            guard count <= 15, k < n, !Self.isNumberByte(b[k]) else { return false }
            // As `ScalarText.double`'s exact path computes it.
            let v = Double(mantissa) / powersOf10[fraction]
            let slot = stagedSlot(field, batch: &batch)
            staging.doubles(field)[slot] = c == UInt8(ascii: "-") ? -v : v
            i = k
        case .string:
            guard c == UInt8(ascii: "\"") else { return false }
            let (end, escaped, ascii) = try Self.scanString(b, from: i + 1)
            let text = UnsafeBufferPointer(rebasing: b[(i + 1)..<end])
            guard !escaped, ascii || ScalarText.isValidUTF8(text) else { return false }
            stageString(text, field: field, batch: &batch)
            i = end + 1
        case .timestamp:
            guard c == UInt8(ascii: "\"") else { return false }
            let (end, escaped, _) = try Self.scanString(b, from: i + 1)
            let text = UnsafeBufferPointer(rebasing: b[(i + 1)..<end])
            guard !escaped, text.count >= 10, text[4] == UInt8(ascii: "-"), let micros = ScalarText.timestamp(text, dayCache: &dayCache) else { return false }
            let slot = stagedSlot(field, batch: &batch)
            staging.int64s(field)[slot] = micros
            i = end + 1
        case .boolean:
            let value = c == UInt8(ascii: "t")
            guard value || c == UInt8(ascii: "f") else { return false }
            // `true` as one word, `false` as `f` and one word; anything else (a partial literal, a typo)
            // through the byte-by-byte check that says which.
            if value, i + 4 <= n, UnsafeRawPointer(b.baseAddress! + i).loadUnaligned(as: UInt32.self) == UInt32(littleEndian: 0x6575_7274) {
                i += 4
            } else if !value, i + 5 <= n, UnsafeRawPointer(b.baseAddress! + i + 1).loadUnaligned(as: UInt32.self) == UInt32(littleEndian: 0x6573_6c61) {
                i += 5
            } else {
                try Self.expectLiteral(b, &i, value ? "true" : "false")
            }
            let slot = stagedSlot(field, batch: &batch)
            staging.booleans(field)[slot] = value
        }
        return true
    }

    // MARK: Values held for their columns (``staging``)

    /// The slot for `field`'s next value, counted as held: the field's run goes to its column first when
    /// it is full. The caller writes the value.
    @inline(__always)
    private mutating func stagedSlot(_ field: Int, batch: inout RecordBatch) -> Int {
        var slot = staging.counts[field]
        if slot == JSONValueStaging.capacity {
            flushStaged(field, into: &batch)
            slot = 0
        }
        staging.counts[field] = slot + 1
        return slot
    }

    /// A string value of `field`, held (or appended directly when longer than the room held per field).
    @inline(__always)
    private mutating func stageString(_ text: UnsafeBufferPointer<UInt8>, field: Int, batch: inout RecordBatch) {
        var used = staging.byteCounts[field]
        if used + text.count > JSONValueStaging.bytesPerField || staging.counts[field] == JSONValueStaging.capacity {
            flushStaged(field, into: &batch)
            used = 0
            if text.count > JSONValueStaging.bytesPerField {
                batch.leaves[firstLeaves[field]].append(bytes: text)
                return
            }
        }
        let slot = stagedSlot(field, batch: &batch)
        let to = staging.stringBytes(field) + used
        if text.count <= 16 {
            for k in 0..<text.count { to[k] = text[k] }
        } else {
            to.update(from: text.baseAddress!, count: text.count)
        }
        staging.lengths(field)[slot] = Int32(text.count)
        staging.byteCounts[field] = used + text.count
    }

    /// A null of optional `field` (as ``RecordBatch/appendNull(field:)``), held with its values.
    private mutating func stageNull(_ field: Int, batch: inout RecordBatch) {
        let slot = stagedSlot(field, batch: &batch)
        staging.nulls[field] |= 1 << UInt64(slot)
        switch fastPaths[field] {
        case .long, .timestamp: staging.int64s(field)[slot] = 0
        case .double: staging.doubles(field)[slot] = 0
        case .boolean: staging.booleans(field)[slot] = false
        case .string: staging.lengths(field)[slot] = 0
        case .none: break
        }
    }

    /// Appends what is held for `field` to its column: a run of defined values at once, or value by value
    /// when the run holds a null.
    private mutating func flushStaged(_ field: Int, into batch: inout RecordBatch) {
        let count = staging.counts[field]
        guard count > 0 else { return }
        let nulls = staging.nulls[field]
        let leaf = firstLeaves[field]
        staging.counts[field] = 0
        staging.nulls[field] = 0
        let byteCount = staging.byteCounts[field]
        staging.byteCounts[field] = 0
        let path = fastPaths[field]
        if nulls == 0 {
            switch path {
            case .long, .timestamp: batch.leaves[leaf].appendDefined(UnsafeBufferPointer(start: staging.int64s(field), count: count))
            case .double: batch.leaves[leaf].appendDefined(UnsafeBufferPointer(start: staging.doubles(field), count: count))
            case .boolean: batch.leaves[leaf].appendDefined(UnsafeBufferPointer(start: staging.booleans(field), count: count))
            case .string:
                batch.leaves[leaf].appendDefined(
                    bytes: UnsafeBufferPointer(start: staging.stringBytes(field), count: byteCount),
                    lengths: UnsafeBufferPointer(start: staging.lengths(field), count: count))
            case .none: break
            }
            return
        }
        var offset = 0
        for slot in 0..<count {
            if nulls & (1 << UInt64(slot)) != 0 {
                batch.leaves[leaf].appendUndefined(definition: 0)
                continue
            }
            switch path {
            case .long, .timestamp: batch.leaves[leaf].append(staging.int64s(field)[slot])
            case .double: batch.leaves[leaf].append(staging.doubles(field)[slot])
            case .boolean: batch.leaves[leaf].append(staging.booleans(field)[slot])
            case .string:
                let length = Int(staging.lengths(field)[slot])
                batch.leaves[leaf].append(bytes: UnsafeBufferPointer(start: staging.stringBytes(field) + offset, count: length))
                offset += length
            case .none: break
            }
        }
    }

    /// Appends everything held to the columns (before a roll-back, and before a parse returns).
    private mutating func flushStaged(into batch: inout RecordBatch) {
        for field in 0..<fastPaths.count where staging.counts[field] > 0 { flushStaged(field, into: &batch) }
    }

    /// Reads decimal digits from `start`, at most `limit` of them, into `value` (times ten per digit, no
    /// overflow check: callers bound `limit`); returns the index after the last one read.
    @inline(__always)
    private static func digitRun(_ b: UnsafeBufferPointer<UInt8>, from start: Int, upTo limit: Int, into value: inout Int64) -> Int {
        var k = start
        let end = min(b.count, start + max(0, limit))
        while k < end, b[k] &- 48 < 10 {
            value = value &* 10 &+ Int64(b[k] &- 48)
            k += 1
        }
        return k
    }

    /// A primitive column's value: appended to its leaf, or why it does not fit (the leaf is untouched then).
    private mutating func parseScalar(
        _ b: UnsafeBufferPointer<UInt8>, _ i: inout Int, field: Int, type: PrimitiveType, batch: inout RecordBatch
    ) throws(Stop) -> ConversionFailure? {
        let valueStart = i
        let leaf = firstLeaves[field]
        let c = b[i]
        var failure: ConversionFailure?
        func append(_ text: UnsafeBufferPointer<UInt8>, _ kind: ScalarKind) {
            do throws(ConversionFailure) { try batch.leaves[leaf].appendScalar(text, kind: kind, type: type, options: options) } catch { failure = error }
        }
        switch c {
        case UInt8(ascii: "\""):
            let (end, escaped, _) = try Self.scanString(b, from: i + 1)
            if escaped {
                Self.unescape(b, i + 1, end, into: &scratch)
                scratch.withUnsafeBufferPointer { append($0, .string) }
            } else {
                append(UnsafeBufferPointer(rebasing: b[(i + 1)..<end]), .string)
            }
            i = end + 1
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            var end = i + 1
            while end < b.count, Self.isNumberByte(b[end]) { end += 1 }
            guard end < b.count else { throw .needMore }
            append(UnsafeBufferPointer(rebasing: b[i..<end]), .number)
            i = end
        case UInt8(ascii: "t"), UInt8(ascii: "f"):
            let value = c == UInt8(ascii: "t")
            try Self.expectLiteral(b, &i, value ? "true" : "false")
            append(UnsafeBufferPointer(rebasing: b[valueStart..<i]), .boolean(value))
        case UInt8(ascii: "n"):
            try Self.expectLiteral(b, &i, "null")
            if required[field] {
                failure = ConversionFailure(.missingRequired, "required field '\(layout.topLevel[field].name)' is null")
            } else {
                batch.leaves[leaf].appendUndefined(definition: 0)
            }
        case UInt8(ascii: "{"), UInt8(ascii: "["):
            _ = try Self.skipValue(b, &i)
            failure = ConversionFailure("expected \(type), found a JSON \(c == UInt8(ascii: "{") ? "object" : "array")")
        default:
            throw .syntax("unexpected character '\(Character(Unicode.Scalar(c)))' where a value should be", at: i)
        }
        return failure
    }
}

/// The top-level fields a record has set: a bit mask for up to 64 fields (no array write per value, and a
/// record with every field checked at once), a record-number stamp per field beyond that.
struct FieldMarks {
    let count: Int
    private var mask: UInt64 = 0
    private let all: UInt64
    /// Per field, the record that last set it (only for more than 64 fields).
    private var stamps: [Int]
    private var record = 0

    init(count: Int) {
        self.count = count
        all = count >= 64 ? ~0 : (1 << UInt64(count)) - 1
        stamps = count > 64 ? Array(repeating: -1, count: count) : []
    }

    /// Starts a record: no field set.
    @inline(__always) mutating func beginRecord() {
        mask = 0
        record += 1
    }

    @inline(__always) func contains(_ field: Int) -> Bool {
        count <= 64 ? mask & (1 << UInt64(field)) != 0 : stamps[field] == record
    }

    @inline(__always) mutating func insert(_ field: Int) {
        if count <= 64 { mask |= 1 << UInt64(field) } else { stamps[field] = record }
    }

    /// Whether the record set every field (with more than 64 fields: never said, each is checked).
    var isComplete: Bool { count <= 64 && mask == all }
}
