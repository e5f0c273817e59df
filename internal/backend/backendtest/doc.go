// Package backendtest is the conformance suite every backend.Store runs from
// its own test:
//
//	func TestConformance(t *testing.T) {
//		backendtest.Run(t, func(t *testing.T) backend.Store { return memory.New(0) }, backendtest.Options{})
//	}
//
// newStore must return an empty store in a namespace of its own each time
// it is called. Options declares what a backend cannot do or how to reach
// behind it (to plant a foreign item); parts that need an option skip with a
// reason when it is missing.
package backendtest
