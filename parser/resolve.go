package parser

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
)

// Options control ParseFile.
type Options struct {
	// IncludeDirs are searched, in order, for relative include paths that
	// are not found next to the including file (nft's -I).
	IncludeDirs []string
	// MaxIncludeDepth bounds nested includes (default 16).
	MaxIncludeDepth int
}

// ParseFile parses the file at path and, recursively, every file its
// include statements name: a relative path is looked up next to the
// including file, then in opts.IncludeDirs; a path with wildcards
// includes every match in sorted order (no match is not an error, as in
// nft). Each Include node's Files holds the parsed files. Errors of all
// files, and missing files or include cycles (reported at the include
// statement), are collected in one ErrorList.
func ParseFile(path string, opts Options) (*File, error) {
	if opts.MaxIncludeDepth == 0 {
		opts.MaxIncludeDepth = 16
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	f, errs := parseSource(NewSource(path, ownedString(b)))
	abs, _ := filepath.Abs(path)
	errs = append(errs, followIncludes(f, opts, []string{abs})...)
	errs.Sort()
	return f, errs.Err()
}

func followIncludes(f *File, opts Options, stack []string) ErrorList {
	var errs ErrorList
	for _, c := range f.Commands {
		inc, ok := c.(*Include)
		if !ok {
			continue
		}
		paths, err := resolveInclude(f.Name, inc.Path.Name(), opts.IncludeDirs)
		if err != nil {
			errs = append(errs, nodeError(inc.Path.Span, err.Error()))
			continue
		}
		for _, p := range paths {
			abs, _ := filepath.Abs(p)
			if contains(stack, abs) {
				errs = append(errs, nodeError(inc.Path.Span, fmt.Sprintf("include cycle: %s includes itself", p)))
				continue
			}
			if len(stack) >= opts.MaxIncludeDepth {
				errs = append(errs, nodeError(inc.Path.Span, fmt.Sprintf("includes nested more than %d deep", opts.MaxIncludeDepth)))
				continue
			}
			b, err := os.ReadFile(p)
			if err != nil {
				errs = append(errs, nodeError(inc.Path.Span, fmt.Sprintf("include %s: %v", p, errors.Unwrap(err))))
				continue
			}
			sub, serrs := parseSource(NewSource(p, ownedString(b)))
			errs = append(errs, serrs...)
			errs = append(errs, followIncludes(sub, opts, append(stack, abs))...)
			inc.Files = append(inc.Files, sub)
		}
	}
	return errs
}

func contains(l []string, s string) bool {
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}

// resolveInclude returns the files an include names.
func resolveInclude(from, name string, dirs []string) ([]string, error) {
	glob := strings.ContainsAny(name, "*?[")
	var cands []string
	if filepath.IsAbs(name) {
		cands = []string{name}
	} else {
		cands = append(cands, filepath.Join(filepath.Dir(from), name))
		for _, d := range dirs {
			cands = append(cands, filepath.Join(d, name))
		}
	}
	for _, c := range cands {
		if glob {
			m, err := filepath.Glob(c)
			if err != nil {
				return nil, fmt.Errorf("include %q: %w", name, err)
			}
			if len(m) > 0 {
				sort.Strings(m)
				return m, nil
			}
			continue
		}
		if st, err := os.Stat(c); err == nil && !st.IsDir() {
			return []string{c}, nil
		}
	}
	if glob {
		return nil, nil
	}
	return nil, fmt.Errorf("include %q: file not found (looked next to %s and in %d include directories)", name, from, len(dirs))
}

func nodeError(s Span, msg string) *Error {
	p := s.Pos()
	return &Error{Pos: p, End: s.End(), Msg: msg, Line: s.Src.Line(p.Line)}
}

// Expand substitutes every $variable in f, and in the files it includes,
// with the value of the define in scope at that point (defines apply to
// what follows them, across includes, as in nft; redefine replaces,
// undefine removes). The substituted expressions are copies whose
// positions are the use site. Names written as variables (table $t,
// jump $c, comment $x) get the variable's text. Undefined variables are
// reported as positioned errors. f is modified in place.
func Expand(f *File) error {
	x := &expander{vars: map[string]Expr{}}
	x.file(f)
	x.errs.Sort()
	return x.errs.Err()
}

type expander struct {
	vars map[string]Expr
	errs ErrorList
}

var (
	exprType  = reflect.TypeOf((*Expr)(nil)).Elem()
	identType = reflect.TypeOf((*Ident)(nil))
	spanType  = reflect.TypeOf(Span{})
	fileType  = reflect.TypeOf((*File)(nil))
)

func (x *expander) file(f *File) {
	hasVars := f.Span.Src == nil || strings.Contains(f.Span.Src.Text, "$")
	for _, c := range f.Commands {
		switch c := c.(type) {
		case *Include:
			for _, sub := range c.Files {
				x.file(sub)
			}
		case *Define:
			if hasVars {
				c.Value = x.expr(c.Value)
			}
			if !c.Redefine {
				if _, dup := x.vars[c.Name]; dup {
					x.errs = append(x.errs, nodeError(c.NameSpan, fmt.Sprintf("variable $%s redefined (use redefine)", c.Name)))
				}
			}
			x.vars[c.Name] = c.Value
		case *Undefine:
			if _, ok := x.vars[c.Name]; !ok {
				x.errs = append(x.errs, nodeError(c.Span, fmt.Sprintf("undefine of undefined variable $%s", c.Name)))
			}
			delete(x.vars, c.Name)
		default:
			if hasVars {
				x.walk(reflect.ValueOf(c))
			}
		}
	}
}

// expr returns e with variables substituted.
func (x *expander) expr(e Expr) Expr {
	if v, ok := e.(*VarRef); ok {
		return x.lookup(v)
	}
	if e != nil {
		x.walk(reflect.ValueOf(e))
	}
	return e
}

func (x *expander) lookup(v *VarRef) Expr {
	val, ok := x.vars[v.Name]
	if !ok {
		x.errs = append(x.errs, nodeError(v.Span, fmt.Sprintf("undefined variable $%s", v.Name)))
		return v
	}
	return cloneAt(reflect.ValueOf(val), v.Span).Interface().(Expr)
}

// walk visits the fields of a node, replacing variable references.
func (x *expander) walk(v reflect.Value) {
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			return
		}
		if v.Type() == identType {
			id := v.Interface().(*Ident)
			if id.IsVar() {
				name := id.Text[1:]
				val, ok := x.vars[name]
				if !ok {
					x.errs = append(x.errs, nodeError(id.Span, fmt.Sprintf("undefined variable $%s", name)))
					return
				}
				switch val := val.(type) {
				case *Literal:
					id.Text = val.Text
				case *Ident:
					id.Text = val.Text
				default:
					x.errs = append(x.errs, nodeError(id.Span, fmt.Sprintf("variable $%s is not a name", name)))
				}
			}
			return
		}
		if v.Type() == fileType {
			return
		}
		if cb, ok := v.Interface().(*ChainBlock); ok {
			cb.Rules() // rules kept as spans are built, then expanded
		}
		x.walk(v.Elem())
	case reflect.Interface:
		if v.IsNil() {
			return
		}
		if v.Type() == exprType {
			if ref, ok := v.Interface().(*VarRef); ok {
				if v.CanSet() {
					v.Set(reflect.ValueOf(x.lookup(ref)))
				}
				return
			}
		}
		x.walk(v.Elem())
	case reflect.Struct:
		if v.Type() == spanType {
			return
		}
		for i := 0; i < v.NumField(); i++ {
			if v.Type().Field(i).IsExported() {
				x.walk(v.Field(i))
			}
		}
	case reflect.Slice:
		for i := 0; i < v.Len(); i++ {
			x.walk(v.Index(i))
		}
	}
}

// cloneAt deep-copies an expression tree, giving every node the span sp.
func cloneAt(v reflect.Value, sp Span) reflect.Value {
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			return v
		}
		n := reflect.New(v.Type().Elem())
		n.Elem().Set(cloneAt(v.Elem(), sp))
		return n
	case reflect.Interface:
		if v.IsNil() {
			return v
		}
		n := reflect.New(v.Type()).Elem()
		n.Set(cloneAt(v.Elem(), sp))
		return n
	case reflect.Struct:
		if v.Type() == spanType {
			return reflect.ValueOf(sp)
		}
		n := reflect.New(v.Type()).Elem()
		for i := 0; i < v.NumField(); i++ {
			if v.Type().Field(i).IsExported() {
				n.Field(i).Set(cloneAt(v.Field(i), sp))
			}
		}
		return n
	case reflect.Slice:
		if v.IsNil() {
			return v
		}
		n := reflect.MakeSlice(v.Type(), v.Len(), v.Len())
		for i := 0; i < v.Len(); i++ {
			n.Index(i).Set(cloneAt(v.Index(i), sp))
		}
		return n
	}
	return v
}
