// Package busguard stops the D-Bus library that 99designs/keyring uses from
// starting a session bus of its own.
//
// 99designs/keyring connects to the D-Bus session bus in its package init
// (upstream issue 103). With no DBUS_SESSION_BUS_ADDRESS, godbus looks for
// /run/user/UID/bus and /run/user/UID/dbus-session and, failing those, runs
// dbus-launch, which starts a dbus-daemon that outlives the program. This
// package's init runs first and, when no bus can be found, sets
// DBUS_SESSION_BUS_ADDRESS=disabled: so that godbus fails fast instead. When
// $XDG_RUNTIME_DIR/bus is a socket (the systemd user bus, which this godbus
// version does not look for), it points DBUS_SESSION_BUS_ADDRESS at it.
// It acts on Linux only, the one platform where 99designs/keyring talks to
// D-Bus; elsewhere it does nothing.
//
// # Why init order works
//
// Since Go 1.21 packages are initialized in import-path order: the runtime
// repeatedly picks the first package, sorted by import path, whose imports
// are all initialized. This package imports only "syscall", so it is ready
// as soon as syscall is. 99designs/keyring imports golang.org/x/term (and
// golang.org/x/sys/unix on Linux), which also need syscall but sort after
// github.com/mcp-secrets/..., so this package is always initialized before
// them and therefore before keyring's init. Import it with a blank import
// from the package that imports 99designs/keyring. The oskeyring tests
// build a small program and check that dbus-launch is never run.
package busguard
