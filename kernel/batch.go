package kernel

import (
	"fmt"

	"github.com/nftflow/nftflow/model"
)

// chunkSize is the size of the buffers the serialized batch is written
// into. The batch is sent as one sendmsg with one iovec per chunk, so it is
// never copied into a single contiguous buffer on our side.
const chunkSize = 4 << 20

// msgRef maps one message of the batch back to what it was encoded from.
type msgRef struct {
	op   int32 // index into Batch.Ops
	elem int32 // first set element in the message, or -1
}

// wire is a batch serialized for the kernel: the object messages in chunks
// (without BATCH_BEGIN and BATCH_END), and the origin of each message,
// indexed by sequence number minus firstSeq.
type wire struct {
	chunks   [][]byte
	size     int
	msgs     []msgRef
	firstSeq uint32
}

// indexOf returns the message index of seq, or -1 if seq is not an object message.
func (w *wire) indexOf(seq uint32) int {
	i := int64(seq) - int64(w.firstSeq)
	if i < 0 || i >= int64(len(w.msgs)) {
		return -1
	}
	return int(i)
}

// wireWriter implements msgWriter, appending messages to a wire.
type wireWriter struct {
	w  *wire
	op int32
}

func (ww *wireWriter) nextSeq() uint32 { return ww.w.firstSeq + uint32(len(ww.w.msgs)) }

func (ww *wireWriter) emit(e *encoder, elem int) error {
	if e.bad != nil {
		return e.bad
	}
	w := ww.w
	n := len(e.b)
	if len(w.chunks) == 0 || cap(w.chunks[len(w.chunks)-1])-len(w.chunks[len(w.chunks)-1]) < n {
		w.chunks = append(w.chunks, make([]byte, 0, max(chunkSize, n)))
	}
	last := len(w.chunks) - 1
	w.chunks[last] = append(w.chunks[last], e.b...)
	w.size += n
	w.msgs = append(w.msgs, msgRef{op: ww.op, elem: int32(elem)})
	return nil
}

// encodeBatch serializes every operation of b. Sequence numbers start at
// firstSeq. An operation that cannot be encoded yields an *OpError.
func encodeBatch(b *model.Batch, firstSeq uint32) (*wire, error) {
	w := &wire{firstSeq: firstSeq}
	var e encoder
	ww := &wireWriter{w: w}
	for i, op := range b.Ops {
		ww.op = int32(i)
		if err := encodeOp(&e, ww, op); err != nil {
			return nil, &OpError{Op: op, Index: i, Elem: -1, Expr: -1, Err: err}
		}
	}
	return w, nil
}

// captureWriter records the messages of one operation (to locate the
// attribute the kernel pointed at in an error).
type captureWriter struct {
	seq   uint32
	msgs  [][]byte
	elems []int
}

func (c *captureWriter) nextSeq() uint32 { return c.seq + uint32(len(c.msgs)) }

func (c *captureWriter) emit(e *encoder, elem int) error {
	if e.bad != nil {
		return e.bad
	}
	c.msgs = append(c.msgs, append([]byte(nil), e.b...))
	c.elems = append(c.elems, elem)
	return nil
}

// reencode rebuilds the k-th message of op.
func reencode(op model.Op, k int) ([]byte, error) {
	var e encoder
	c := &captureWriter{}
	if err := encodeOp(&e, c, op); err != nil {
		return nil, err
	}
	if k < 0 || k >= len(c.msgs) {
		return nil, fmt.Errorf("message %d of the operation not found", k)
	}
	return c.msgs[k], nil
}
