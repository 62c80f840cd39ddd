"""The prototype's API under aurora_jail: `aurora_jail.compat.loader` is python/compat/loader
(installed here by the .deb and by pip), so a migrating user changes one import:
`from loader.sandbox_runtime import SandboxRuntime` becomes
`from aurora_jail.compat.loader.sandbox_runtime import SandboxRuntime`."""
