// Package backend defines where credentials are kept: the [Store] contract
// that every storage backend implements, the sentinel errors they return,
// the [Value] model (a string, or a JSON object or array, that comes back as
// exactly the kind it went in as), name rules, and the [Catalog], which keeps
// a namespace's credentials together with an index of their metadata so that
// listing needs one read.
//
// Backends live in sub-packages (memory, file, oskeyring, ...). This package
// cannot import them; the command that chooses one by name does.
//
// # Writing a backend
//
// Implement [Store], return the sentinel errors wrapped with %w, and run
// backendtest.Run from the backend's own test. A Store must accept reserved
// names (those starting with "__"): the Catalog keeps its index under one.
package backend
