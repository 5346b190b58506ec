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

    /// The `Package.swift` snippet, as a consumer package would write it: its `.product(..., package:)` line
    /// resolves against this repository as a URL dependency (a bare clone named like the README's URL, tagged
    /// 0.1.0) and as a path dependency (a folder of the same name); a wrong identity fails, so the check has
    /// teeth. `swift package show-dependencies` loads the package graph, which checks products and identities.
    @Test func dependencySnippetResolvesAsURLAndPath() async throws {
        let root = TestEnvironment.repositoryRoot
        let readme = try String(contentsOf: root.appendingPathComponent("README.md"), encoding: .utf8)
        let snippet = try #require(
            readme.components(separatedBy: "```swift\n").first { $0.hasPrefix("// Package.swift") }?.components(separatedBy: "```").first)
        let lines = snippet.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
        let packageLine = try #require(lines.first { $0.hasPrefix(".package(url:") })
        let productLine = try #require(lines.first { $0.hasPrefix(".product(") })
        let url = try #require(packageLine.split(separator: "\"").dropFirst().first.map(String.init))
        let name = try #require(url.split(separator: "/").last.map(String.init))

        let dir = try TestEnvironment.temporaryDirectory("consumer")
        defer { TestEnvironment.cleanUp(dir) }
        let remote = dir.appendingPathComponent("remote/\(name).git").path
        _ = try await TestProcesses.run("/usr/bin/env", arguments: ["git", "clone", "-q", "--bare", root.path, remote])
        _ = try await TestProcesses.run("/usr/bin/env", arguments: ["git", "-C", remote, "tag", "0.1.0", "HEAD"])
        try FileManager.default.createSymbolicLink(atPath: dir.appendingPathComponent(name).path, withDestinationPath: root.path)
        let consumer = dir.appendingPathComponent("consumer")
        try FileManager.default.createDirectory(at: consumer.appendingPathComponent("Sources/Consumer"), withIntermediateDirectories: true)
        try Data("import IcebergCore\n".utf8).write(to: consumer.appendingPathComponent("Sources/Consumer/main.swift"))

        func resolve(_ dependency: String, _ product: String) async throws -> PythonTool.Output {
            let manifest = """
                // swift-tools-version:6.1
                import PackageDescription
                let package = Package(
                    name: "Consumer",
                    dependencies: [\(dependency)],
                    targets: [.executableTarget(name: "Consumer", dependencies: [\(product.trimmingCharacters(in: CharacterSet(charactersIn: ",")))])]
                )
                """
            try Data(manifest.utf8).write(to: consumer.appendingPathComponent("Package.swift"))
            return try await TestProcesses.run("/usr/bin/env", arguments: ["swift", "package", "--package-path", consumer.path, "show-dependencies"])
        }
        let asURL = try await resolve(packageLine.replacingOccurrences(of: url, with: "file://" + remote).trimmingCharacters(in: CharacterSet(charactersIn: ",")), productLine)
        #expect(asURL.status == 0, "\(asURL.stderr)")
        #expect(asURL.stdout.contains(name), "\(asURL.stdout)")
        let asPath = try await resolve(".package(path: \"../\(name)\")", productLine)
        #expect(asPath.status == 0, "\(asPath.stderr)")
        let wrong = try await resolve(".package(path: \"../\(name)\")", productLine.replacingOccurrences(of: "package: \"\(name)\"", with: "package: \"\(name)-x\""))
        #expect(wrong.status != 0 && wrong.stderr.contains("unknown package"), "\(wrong.stderr)")
    }
}
