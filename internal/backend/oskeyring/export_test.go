package oskeyring

// LimitAs gives s the per-item size limit (and the name in its message) of
// another backend, so the limit of one that cannot run here (wincred) can
// be tested on one that can.
func LimitAs(s *Store, backendName string) {
	k := kindOf(backendName)
	s.maxData = k.maxData
	s.kind.title = k.title
}

// MaxData is the per-item size limit this package applies to a backend.
func MaxData(backendName string) int { return kindOf(backendName).maxData }

// NamespaceOf returns the namespace s was opened with.
func NamespaceOf(s *Store) string { return s.namespace }
