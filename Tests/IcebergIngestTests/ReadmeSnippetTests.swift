import Foundation
import Testing
import TestSupport

/// Every Swift snippet in README.md is code the suite runs: its lines (imports aside) appear in order in one
/// test function's stretch of a test file (a few test-only lines may come between them, such as making the
/// data file the README takes as given), and the file imports what the snippet imports. String literals may differ (the tests
/// use their own paths and servers; a test may pass a variable where the README shows a literal) and so may
/// comments and spacing. The `Package.swift` snippet is a manifest fragment, not code, and is left out.
@Suite struct ReadmeSnippetTests {
    /// A line as compared: string literals as `"…"`, comments dropped, spacing collapsed.
    static func normalized(_ text: String) -> [String] {
        text.split(separator: "\n", omittingEmptySubsequences: false).compactMap { raw in
            var line = String(raw)
            line = line.replacingOccurrences(of: #""(?:[^"\\]|\\.)*""#, with: "\"…\"", options: .regularExpression)
            if let comment = line.range(of: "//") { line = String(line[..<comment.lowerBound]) }
            line = line.replacingOccurrences(of: #"\s+"#, with: " ", options: .regularExpression).trimmingCharacters(in: .whitespaces)
            return line.isEmpty ? nil : line
        }
    }

    /// Whether a test line matches a README line: equal, or equal with each README literal stood for by a
    /// literal or a name (`server.url`).
    static func matches(_ test: String, _ readme: String) -> Bool {
        if test == readme { return true }
        guard readme.contains("\"…\"") else { return false }
        let pattern = "^" + readme.components(separatedBy: "\"…\"").map(NSRegularExpression.escapedPattern(for:)).joined(separator: #"(?:"…"|[\w.]+)"#) + "$"
        return test.range(of: pattern, options: .regularExpression) != nil
    }

    /// Whether `code` starts at `start` of `lines` and goes on in order, at most 5 other lines between two of its lines.
    static func follows(_ code: [String], in lines: [String], from start: Int) -> Bool {
        guard let first = code.first, matches(lines[start], first) else { return false }
        var at = start
        for line in code.dropFirst() {
            guard let next = lines.indices.dropFirst(at + 1).prefix(6).first(where: { matches(lines[$0], line) }) else { return false }
            at = next
        }
        return true
    }

    @Test func everySwiftSnippetIsInATest() throws {
        let root = TestEnvironment.repositoryRoot
        let readme = try String(contentsOf: root.appendingPathComponent("README.md"), encoding: .utf8)
        let blocks = readme.components(separatedBy: "```swift\n").dropFirst().map { $0.components(separatedBy: "```").first ?? "" }
        #expect(blocks.count >= 6)
        var tests: [(String, [String])] = []
        let enumerator = FileManager.default.enumerator(atPath: root.appendingPathComponent("Tests").path)
        while let path = enumerator?.nextObject() as? String {
            guard path.hasSuffix(".swift") else { continue }
            let text = try String(contentsOf: root.appendingPathComponent("Tests/" + path), encoding: .utf8)
            tests.append((path, Self.normalized(text)))
        }
        for block in blocks where !block.hasPrefix("// Package.swift") {
            let lines = Self.normalized(block)
            let imports = lines.filter { $0.hasPrefix("import ") }
            let code = lines.filter { !$0.hasPrefix("import ") }
            let home = tests.first { _, testLines in
                imports.allSatisfy { testLines.contains($0) || testLines.contains("@testable " + $0) }
                    && testLines.indices.contains { Self.follows(code, in: testLines, from: $0) }
            }
            #expect(home != nil, "README snippet not found in any test:\n\(block)")
        }
    }
}
