import Foundation
import IcebergCore

/// The direct path for struct and list columns: their values go from the bytes into the leaf builders in one
/// walk, with the same definition and repetition levels as ``RecordBatch/appendNested(_:field:options:)``
/// gives a parsed tree. It takes only the plain case (every key known and once, every value fitting its
/// type, the JSON well formed, the whole value in the buffer); anything else makes it give up, the field's
/// leaves are cut back and the tree path parses the value again, so drift, rescue, bad-record messages and
/// syntax errors are exactly what they were. Maps always take the tree path.
extension JSONRecordParser {
    /// A nested field's type, flattened for the walk: child names as bytes and each child's first leaf.
    indirect enum NestedShape: Sendable {
        case primitive(PrimitiveType)
        case structure([StructChild])
        case list(element: NestedShape, elementRequired: Bool, leafCount: Int)
        /// Maps (and anything else the walk does not take): the tree path.
        case tree

        struct StructChild: Sendable {
            var name: [UInt8]
            /// The name as two masked words (nil past 16 bytes), compared with a key without touching `name`
            /// (an array: its retain and release cost more than the compare).
            var nameWords: KeyWords?
            var shape: NestedShape
            var required: Bool
            /// The child's first leaf, counted from the struct's first leaf.
            var leafOffset: Int
            var leafCount: Int

            init(name: [UInt8], shape: NestedShape, required: Bool, leafOffset: Int, leafCount: Int) {
                (self.name, nameWords, self.shape, self.required) = (name, KeyWords(name), shape, required)
                (self.leafOffset, self.leafCount) = (leafOffset, leafCount)
            }
        }

        init(_ type: IcebergType) {
            switch type {
            case .primitive(let p): self = .primitive(p)
            case .struct(let s):
                var offset = 0
                var children: [StructChild] = []
                for field in s.fields {
                    let shape = NestedShape(field.type)
                    if case .tree = shape {
                        self = .tree
                        return
                    }
                    children.append(StructChild(name: Array(field.name.utf8), shape: shape, required: field.isRequired, leafOffset: offset, leafCount: field.type.leafCount))
                    offset += field.type.leafCount
                }
                // The keys seen are tracked in a 64-bit mask.
                self = children.count <= 64 ? .structure(children) : .tree
            case .list(let l):
                let element = NestedShape(l.element)
                if case .tree = element {
                    self = .tree
                } else {
                    self = .list(element: element, elementRequired: l.elementRequired, leafCount: l.element.leafCount)
                }
            case .map: self = .tree
            }
        }

        var isTree: Bool {
            if case .tree = self { return true }
            return false
        }
    }

    /// Tries the direct walk for the value at `i` of top-level `field`; on success `i` is past the value.
    /// On failure the field's leaves are as they were and `i` is unchanged.
    mutating func shredDirectly(_ b: UnsafeBufferPointer<UInt8>, _ i: inout Int, field: Int, shape: NestedShape, batch: inout RecordBatch) -> Bool {
        // The field's parts, not a copy of it (whose references would be retained and released per value).
        let leaves = layout.topLevel[field].leaves
        let required = layout.topLevel[field].field.isRequired
        if savedSlots.count < leaves.count { savedSlots = Array(repeating: 0, count: leaves.count) }
        for (k, leaf) in leaves.enumerated() { savedSlots[k] = batch.leaves[leaf].slotCount }
        var j = i
        if shred(b, &j, shape: shape, required: required, firstLeaf: leaves.lowerBound, definition: 0, repetition: 0, depth: 0, batch: &batch) {
            i = j
            directNestedValues += 1
            return true
        }
        // The current row's start stays (rows: the rows before it, plus this one).
        for (k, leaf) in leaves.enumerated() { batch.leaves[leaf].truncate(slots: savedSlots[k], rows: batch.rowCount + 1) }
        return false
    }

    /// Skips JSON's whitespace (and nothing else: a stray control byte is the tree path's error); false at
    /// the buffer's end.
    @inline(__always)
    private static func skipSpaceChecked(_ b: UnsafeBufferPointer<UInt8>, _ i: inout Int) -> Bool {
        while i < b.count {
            let c = b[i]
            guard c == 0x20 || c == 0x0a || c == 0x0d || c == 0x09 else { return true }
            i += 1
        }
        return false
    }

    /// Whether `text` is a number by JSON's grammar: `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`.
    static func isJSONNumber(_ text: UnsafeBufferPointer<UInt8>) -> Bool {
        var k = 0
        let n = text.count
        func digits() -> Int {
            let from = k
            while k < n, text[k] &- UInt8(ascii: "0") < 10 { k += 1 }
            return k - from
        }
        if k < n, text[k] == UInt8(ascii: "-") { k += 1 }
        guard k < n else { return false }
        if text[k] == UInt8(ascii: "0") {
            k += 1
        } else if digits() == 0 {
            return false
        }
        if k < n, text[k] == UInt8(ascii: ".") {
            k += 1
            guard digits() > 0 else { return false }
        }
        if k < n, text[k] | 0x20 == UInt8(ascii: "e") {
            k += 1
            if k < n, text[k] == UInt8(ascii: "+") || text[k] == UInt8(ascii: "-") { k += 1 }
            guard digits() > 0 else { return false }
        }
        return k == n
    }

    /// One value of `shape` into the leaves from `firstLeaf`; false to give up.
    private mutating func shred(
        _ b: UnsafeBufferPointer<UInt8>, _ i: inout Int, shape: NestedShape, required: Bool, firstLeaf: Int,
        definition: UInt16, repetition: UInt16, depth: UInt16, batch: inout RecordBatch
    ) -> Bool {
        guard i < b.count else { return false }
        let c = b[i]
        if c == UInt8(ascii: "n") {
            // null: every leaf under it is undefined at this level (a required value is the tree path's error).
            guard !required, i + 4 <= b.count, b[i + 1] == UInt8(ascii: "u"), b[i + 2] == UInt8(ascii: "l"), b[i + 3] == UInt8(ascii: "l") else { return false }
            i += 4
            appendUndefined(shape, firstLeaf: firstLeaf, definition: definition, repetition: repetition, batch: &batch)
            return true
        }
        let defined = definition + (required ? 0 : 1)
        switch shape {
        case .primitive(let type):
            return shredScalar(b, &i, type: type, leaf: firstLeaf, repetition: repetition, batch: &batch)
        case .structure(let children):
            guard c == UInt8(ascii: "{") else { return false }
            i += 1
            var seen: UInt64 = 0
            guard Self.skipSpaceChecked(b, &i) else { return false }
            if b[i] == UInt8(ascii: "}") {
                i += 1
            } else {
                var hint = 0
                while true {
                    guard b[i] == UInt8(ascii: "\""), let (keyEnd, escaped, _) = try? Self.scanString(b, from: i + 1), !escaped else { return false }
                    let keyStart = i + 1, length = keyEnd - keyStart
                    // Names of up to 16 bytes are compared as two masked words when 16 bytes can be read.
                    let wordsReadable = keyStart + 16 <= b.count
                    // Keys usually come in the schema's order: try the child after the last one first.
                    var found = -1
                    for step in 0..<children.count {
                        let k = (hint + step) % children.count
                        guard children[k].name.count == length else { continue }
                        let same =
                            if wordsReadable, let words = children[k].nameWords {
                                words.isPrefix(of: b, at: keyStart)
                            } else {
                                children[k].name.withUnsafeBufferPointer { memcmp($0.baseAddress!, b.baseAddress! + keyStart, length) == 0 }
                            }
                        if same {
                            found = k
                            break
                        }
                    }
                    // An unknown key is drift and a repeated one a bad record: the tree path says which.
                    guard found >= 0, seen & (1 << UInt64(found)) == 0 else { return false }
                    seen |= 1 << UInt64(found)
                    hint = found + 1
                    i = keyEnd + 1
                    guard Self.skipSpaceChecked(b, &i), b[i] == UInt8(ascii: ":") else { return false }
                    i += 1
                    guard Self.skipSpaceChecked(b, &i) else { return false }
                    guard shred(
                        b, &i, shape: children[found].shape, required: children[found].required, firstLeaf: firstLeaf + children[found].leafOffset,
                        definition: defined, repetition: repetition, depth: depth, batch: &batch)
                    else { return false }
                    guard Self.skipSpaceChecked(b, &i) else { return false }
                    if b[i] == UInt8(ascii: ",") {
                        i += 1
                        guard Self.skipSpaceChecked(b, &i) else { return false }
                        continue
                    }
                    guard b[i] == UInt8(ascii: "}") else { return false }
                    i += 1
                    break
                }
            }
            // Children the object lacks are null.
            for (k, child) in children.enumerated() where seen & (1 << UInt64(k)) == 0 {
                guard !child.required else { return false }
                for leaf in (firstLeaf + child.leafOffset)..<(firstLeaf + child.leafOffset + child.leafCount) {
                    batch.leaves[leaf].appendUndefined(definition: defined, repetition: repetition)
                }
            }
            return true
        case .list(let element, let elementRequired, let leafCount):
            guard c == UInt8(ascii: "[") else { return false }
            i += 1
            guard Self.skipSpaceChecked(b, &i) else { return false }
            if b[i] == UInt8(ascii: "]") {
                i += 1
                for leaf in firstLeaf..<(firstLeaf + leafCount) { batch.leaves[leaf].appendUndefined(definition: defined, repetition: repetition) }
                return true
            }
            var first = true
            while true {
                guard shred(
                    b, &i, shape: element, required: elementRequired, firstLeaf: firstLeaf, definition: defined + 1,
                    repetition: first ? repetition : depth + 1, depth: depth + 1, batch: &batch)
                else { return false }
                first = false
                guard Self.skipSpaceChecked(b, &i) else { return false }
                if b[i] == UInt8(ascii: ",") {
                    i += 1
                    guard Self.skipSpaceChecked(b, &i) else { return false }
                    continue
                }
                guard b[i] == UInt8(ascii: "]") else { return false }
                i += 1
                return true
            }
        case .tree:
            return false
        }
    }

    /// Null (or absent) at `definition` for every leaf under `shape`.
    private func appendUndefined(_ shape: NestedShape, firstLeaf: Int, definition: UInt16, repetition: UInt16, batch: inout RecordBatch) {
        let count: Int
        switch shape {
        case .primitive: count = 1
        case .structure(let children): count = children.reduce(0) { $0 + $1.leafCount }
        case .list(_, _, let leafCount): count = leafCount
        case .tree: count = 0
        }
        for leaf in firstLeaf..<(firstLeaf + count) { batch.leaves[leaf].appendUndefined(definition: definition, repetition: repetition) }
    }

    /// A string, number or boolean into its leaf; false when it is anything else or does not fit.
    private mutating func shredScalar(
        _ b: UnsafeBufferPointer<UInt8>, _ i: inout Int, type: PrimitiveType, leaf: Int, repetition: UInt16, batch: inout RecordBatch
    ) -> Bool {
        let start = i
        let c = b[i]
        var text: UnsafeBufferPointer<UInt8>
        let kind: ScalarKind
        switch c {
        case UInt8(ascii: "\""):
            // Escapes are left to the tree path, which checks them as JSON does.
            guard let (end, escaped, ascii) = try? Self.scanString(b, from: i + 1), !escaped else { return false }
            i = end + 1
            text = UnsafeBufferPointer(rebasing: b[(start + 1)..<end])
            if type == .string {
                // What appendScalar does with a string for a string column, without its dispatch.
                guard ascii || ScalarText.isValidUTF8(text) else { return false }
                batch.leaves[leaf].append(bytes: text, repetition: repetition)
                return true
            }
            kind = .string
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            var end = i + 1
            while end < b.count, Self.isNumberByte(b[end]) { end += 1 }
            guard end < b.count else { return false }
            text = UnsafeBufferPointer(rebasing: b[i..<end])
            // A number into a string column keeps the tree path's spelling of it.
            guard type != .string, Self.isJSONNumber(text) else { return false }
            kind = .number
            i = end
        case UInt8(ascii: "t"), UInt8(ascii: "f"):
            let value = c == UInt8(ascii: "t")
            guard (try? Self.expectLiteral(b, &i, value ? "true" : "false")) != nil else { return false }
            text = UnsafeBufferPointer(rebasing: b[start..<i])
            kind = .boolean(value)
        default:
            return false
        }
        do throws(ConversionFailure) {
            try batch.leaves[leaf].appendScalar(text, kind: kind, type: type, options: options, repetition: repetition)
            return true
        } catch {
            i = start
            return false
        }
    }
}
