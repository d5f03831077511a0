package parser

import "reflect"

var nodeType = reflect.TypeOf((*Node)(nil)).Elem()

// Inspect traverses the tree under n depth-first, in field order, calling
// f for every node; when f returns false the node's children are skipped.
// Included files (Include.Files) are visited too.
func Inspect(n Node, f func(Node) bool) {
	if n == nil || reflect.ValueOf(n).IsNil() {
		return
	}
	inspect(reflect.ValueOf(n), f)
}

func inspect(v reflect.Value, f func(Node) bool) {
	switch v.Kind() {
	case reflect.Interface:
		if !v.IsNil() {
			inspect(v.Elem(), f)
		}
	case reflect.Pointer:
		if v.IsNil() {
			return
		}
		if v.Type().Implements(nodeType) {
			if !f(v.Interface().(Node)) {
				return
			}
		}
		switch x := v.Interface().(type) {
		case *SetExpr:
			x.Elems() // a compact list's elements are built first
		case *ChainBlock:
			x.Rules() // and rules kept as spans
		}
		e := v.Elem()
		if e.Kind() != reflect.Struct {
			return
		}
		for i := 0; i < e.NumField(); i++ {
			if e.Type().Field(i).IsExported() && e.Field(i).Type() != spanType {
				inspect(e.Field(i), f)
			}
		}
	case reflect.Slice:
		for i := 0; i < v.Len(); i++ {
			inspect(v.Index(i), f)
		}
	}
}
