import Foundation

/// Credentials from the shared files a laptop has: `~/.aws/credentials` (`[name]` sections) and
/// `~/.aws/config` (`[profile name]`, `[default]`), the profile named by `AWS_PROFILE` (else `default`),
/// the files by `AWS_SHARED_CREDENTIALS_FILE` and `AWS_CONFIG_FILE`. A profile gives static keys, or a
/// `role_arn` with a `web_identity_token_file`, or a `role_arn` with a `source_profile` whose keys assume
/// the role through STS. Keys in the credentials file win over the config file's.
///
/// ```swift
/// let provider = try ProfileCredentialsProvider(profile: "analytics")
/// ```
public struct ProfileCredentialsProvider: CredentialsProvider {
    public let profile: String
    let settings: [String: String]
    let allProfiles: [String: [String: String]]
    let environment: [String: String]
    let transport: any HTTPTransport

    /// Reads the files now; throws when the profile is in neither file.
    public init(
        profile: String? = nil, environment: [String: String] = ProcessInfo.processInfo.environment,
        transport: any HTTPTransport = CurlTransport.shared
    ) throws {
        let name = profile ?? environment["AWS_PROFILE"] ?? "default"
        let home = environment["HOME"] ?? NSHomeDirectory()
        let credentialsPath = environment["AWS_SHARED_CREDENTIALS_FILE"] ?? home + "/.aws/credentials"
        let configPath = environment["AWS_CONFIG_FILE"] ?? home + "/.aws/config"
        var profiles: [String: [String: String]] = [:]
        for (section, values) in Self.parse(path: configPath) {
            let profileName = section == "default" ? "default" : (section.hasPrefix("profile ") ? String(section.dropFirst(8)).trimmingCharacters(in: .whitespaces) : nil)
            guard let profileName else { continue }
            profiles[profileName, default: [:]].merge(values) { _, new in new }
        }
        for (section, values) in Self.parse(path: credentialsPath) {
            profiles[section, default: [:]].merge(values) { _, new in new }
        }
        guard let settings = profiles[name] else {
            throw S3Error(code: "NoCredentials", message: "profile '\(name)' is in neither \(credentialsPath) nor \(configPath)")
        }
        self.profile = name
        self.settings = settings
        allProfiles = profiles
        self.environment = environment
        self.transport = transport
    }

    /// Whether a shared credentials or config file exists (the chain tries profiles only then).
    static func filesExist(environment: [String: String]) -> Bool {
        let home = environment["HOME"] ?? NSHomeDirectory()
        return [environment["AWS_SHARED_CREDENTIALS_FILE"] ?? home + "/.aws/credentials", environment["AWS_CONFIG_FILE"] ?? home + "/.aws/config"]
            .contains { FileManager.default.fileExists(atPath: $0) }
    }

    public func credentials() async throws -> AWSCredentials {
        try await resolve(settings, name: profile, depth: 0)
    }

    private func resolve(_ settings: [String: String], name: String, depth: Int) async throws -> AWSCredentials {
        if let id = settings["aws_access_key_id"], let secret = settings["aws_secret_access_key"] {
            return AWSCredentials(accessKeyID: id, secretAccessKey: secret, sessionToken: settings["aws_session_token"])
        }
        let region = settings["region"] ?? environment["AWS_REGION"] ?? environment["AWS_DEFAULT_REGION"] ?? "us-east-1"
        if let role = settings["role_arn"], let tokenFile = settings["web_identity_token_file"] {
            return try await WebIdentityCredentialsProvider(
                roleARN: role, tokenFile: tokenFile, sessionName: settings["role_session_name"], region: region, environment: environment,
                transport: transport
            ).credentials()
        }
        if let role = settings["role_arn"], let sourceName = settings["source_profile"] {
            guard depth < 4, let source = allProfiles[sourceName] else {
                throw S3Error(code: "NoCredentials", message: "profile '\(name)': source_profile '\(sourceName)' is missing or loops")
            }
            let sourceCredentials = try await resolve(source, name: sourceName, depth: depth + 1)
            return try await STS(region: region, environment: environment, transport: transport)
                .assumeRole(role, sessionName: settings["role_session_name"] ?? "iceberg-ingest", with: sourceCredentials)
        }
        throw S3Error(code: "NoCredentials", message: "profile '\(name)' has no keys, no web identity and no source_profile")
    }

    /// INI sections and their `key = value` pairs (comments with `#` or `;`).
    static func parse(path: String) -> [(String, [String: String])] {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return [] }
        var sections: [(String, [String: String])] = []
        for raw in text.split(whereSeparator: \.isNewline) {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") || line.hasPrefix(";") { continue }
            if line.hasPrefix("["), line.hasSuffix("]") {
                sections.append((String(line.dropFirst().dropLast()).trimmingCharacters(in: .whitespaces), [:]))
                continue
            }
            guard !sections.isEmpty, let equals = line.firstIndex(of: "=") else { continue }
            let key = line[..<equals].trimmingCharacters(in: .whitespaces).lowercased()
            let value = line[line.index(after: equals)...].trimmingCharacters(in: .whitespaces)
            sections[sections.count - 1].1[key] = value
        }
        return sections
    }
}
