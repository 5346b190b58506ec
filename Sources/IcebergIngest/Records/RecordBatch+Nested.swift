import IcebergCore

extension RecordBatch {
    /// Appends a nested value (struct, list or map, already parsed) into the leaves under a top-level
    /// field, with the definition and repetition levels of the Dremel encoding Parquet uses.
    package mutating func appendNested(_ value: JSONValue?, field index: Int, options: ConversionOptions) throws(ConversionFailure) {
        let top = layout.topLevel[index]
        try shred(
            value, type: top.field.type, required: top.field.isRequired, path: top.name, firstLeaf: top.leaves.lowerBound,
            definition: 0, repetition: 0, depth: 0, options: options)
    }

    private mutating func shred(
        _ value: JSONValue?, type: IcebergType, required: Bool, path: String, firstLeaf: Int,
        definition: UInt16, repetition: UInt16, depth: UInt16, options: ConversionOptions
    ) throws(ConversionFailure) {
        let leafCount = type.leafCount
        guard let value, value != .null else {
            if required { throw ConversionFailure(.missingRequired, "required field '\(path)' is null or missing") }
            for leaf in firstLeaf..<(firstLeaf + leafCount) { leaves[leaf].appendUndefined(definition: definition, repetition: repetition) }
            return
        }
        let defined = definition + (required ? 0 : 1)
        switch type {
        case .primitive(let primitive):
            var text: String
            let kind: ScalarKind
            switch value {
            case .string(let s): text = s; kind = .string
            case .int(let i): text = String(i); kind = .number
            case .double(let d): text = String(d); kind = .number
            case .bool(let b): text = String(b); kind = .boolean(b)
            case .array, .object: throw ConversionFailure("field '\(path)': expected \(primitive), found a JSON \(value.kindName)")
            case .null: return
            }
            var failure: ConversionFailure?
            text.withUTF8 { buffer in
                do throws(ConversionFailure) {
                    try leaves[firstLeaf].appendScalar(buffer, kind: kind, type: primitive, options: options, repetition: repetition)
                } catch { failure = error }
            }
            if let failure {
                // Nested columns do not widen: the mismatch stays, without a wider type.
                let mismatch: BadRecord.Kind = if case .typeMismatch = failure.kind { .typeMismatch(widening: nil) } else { failure.kind }
                throw ConversionFailure(mismatch, "field '\(path)': \(failure.reason)")
            }
        case .struct(let s):
            guard case .object = value else { throw ConversionFailure("field '\(path)': expected an object, found a JSON \(value.kindName)") }
            var leaf = firstLeaf
            for child in s.fields {
                try shred(
                    value[child.name], type: child.type, required: child.isRequired, path: path + "." + child.name, firstLeaf: leaf,
                    definition: defined, repetition: repetition, depth: depth, options: options)
                leaf += child.type.leafCount
            }
        case .list(let l):
            guard case .array(let elements) = value else { throw ConversionFailure("field '\(path)': expected an array, found a JSON \(value.kindName)") }
            if elements.isEmpty {
                for leaf in firstLeaf..<(firstLeaf + leafCount) { leaves[leaf].appendUndefined(definition: defined, repetition: repetition) }
                return
            }
            for (k, element) in elements.enumerated() {
                try shred(
                    element, type: l.element, required: l.elementRequired, path: path + "[\(k)]", firstLeaf: firstLeaf,
                    definition: defined + 1, repetition: k == 0 ? repetition : depth + 1, depth: depth + 1, options: options)
            }
        case .map(let m):
            guard case .object(let entries) = value else { throw ConversionFailure("field '\(path)': expected an object, found a JSON \(value.kindName)") }
            if entries.isEmpty {
                for leaf in firstLeaf..<(firstLeaf + leafCount) { leaves[leaf].appendUndefined(definition: defined, repetition: repetition) }
                return
            }
            let keyLeaves = m.key.leafCount
            for (k, (key, entry)) in entries.enumerated() {
                let rep = k == 0 ? repetition : depth + 1
                try shred(
                    .string(key), type: m.key, required: true, path: path + ".key", firstLeaf: firstLeaf,
                    definition: defined + 1, repetition: rep, depth: depth + 1, options: options)
                try shred(
                    entry, type: m.value, required: m.valueRequired, path: path + "[\(key)]", firstLeaf: firstLeaf + keyLeaves,
                    definition: defined + 1, repetition: rep, depth: depth + 1, options: options)
            }
        }
    }
}

extension IcebergType {
    /// Primitive columns under this type.
    var leafCount: Int {
        switch self {
        case .primitive: 1
        case .struct(let s): s.fields.reduce(0) { $0 + $1.type.leafCount }
        case .list(let l): l.element.leafCount
        case .map(let m): m.key.leafCount + m.value.leafCount
        }
    }
}

extension JSONValue {
    /// `object`, `array`, ... for messages.
    var kindName: String {
        switch self {
        case .null: "null"
        case .bool: "boolean"
        case .int, .double: "number"
        case .string: "string"
        case .array: "array"
        case .object: "object"
        }
    }
}
