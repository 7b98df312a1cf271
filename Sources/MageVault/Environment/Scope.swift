/// Where a secret lives, as Mage scopes them: the whole data directory, one project, or one
/// pipeline of a project. Each scope is an environment of its own (its own uuid and key, in
/// Mage's folder layout) whose records share the data directory's log.
public enum Scope: Hashable, Sendable, CustomStringConvertible {
    /// The data directory's own environment (`secrets/uuid`).
    case global
    /// A project (`secrets/projects/<project>/`).
    case project(String)
    /// A pipeline of a project (`secrets/projects/<project>/pipelines/<pipeline>/`).
    case pipeline(project: String, pipeline: String)

    /// The scope named by `--project` and `--pipeline`; a pipeline needs its project.
    public init(project: String?, pipeline: String?) throws(VaultError) {
        switch (project, pipeline) {
        case (nil, nil): self = .global
        case (let project?, nil): self = .project(try Self.validated(project))
        case (let project?, let pipeline?): self = .pipeline(project: try Self.validated(project), pipeline: try Self.validated(pipeline))
        case (nil, _?): throw .invalidScope("a pipeline scope needs its project: pass --project too")
        }
    }

    /// The folder of this scope below `secrets/`: "", `projects/P` or `projects/P/pipelines/Q`.
    public var relativeDirectory: String {
        switch self {
        case .global: ""
        case .project(let project): "projects/\(project)"
        case .pipeline(let project, let pipeline): "projects/\(project)/pipelines/\(pipeline)"
        }
    }

    /// The scope a read falls back to when this one has no value: pipeline → project → global.
    public var parent: Scope? {
        switch self {
        case .global: nil
        case .project: .global
        case .pipeline(let project, _): .project(project)
        }
    }

    /// This scope and its parents, nearest first: the order in which reads resolve a name.
    public var resolutionOrder: [Scope] {
        var order = [self]
        while let next = order.last?.parent { order.append(next) }
        return order
    }

    public var description: String {
        switch self {
        case .global: "global"
        case .project(let project): "project \(project)"
        case .pipeline(let project, let pipeline): "pipeline \(project)/\(pipeline)"
        }
    }

    /// A project or pipeline name is a folder name: 1 to 255 bytes, no `/`, not `.` or `..`,
    /// no control characters.
    static func validated(_ name: String) throws(VaultError) -> String {
        let bytes = name.utf8.count
        guard bytes > 0, bytes <= 255, name != ".", name != "..", !name.contains("/"),
            !name.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F })
        else {
            throw .invalidScope("'\(name)' cannot name a project or pipeline (a folder name: no '/', not '.' or '..', no control characters)")
        }
        return name
    }
}
