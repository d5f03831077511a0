package kernel

import (
	"context"
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

// BatchEncoder serializes a batch one operation at a time, so that the
// caller need not keep an operation once it is encoded (a 100,000-rule
// table is then never held as objects and as messages at once). Send it
// with ApplyEncoded.
type BatchEncoder struct {
	w  *wire
	ww wireWriter
	e  encoder
	n  int
}

// NewBatchEncoder returns an empty encoder.
func NewBatchEncoder() *BatchEncoder {
	w := &wire{firstSeq: seqBegin + 1}
	return &BatchEncoder{w: w, ww: wireWriter{w: w}}
}

// Add encodes the next operation of the batch. An operation that cannot
// be encoded yields an *OpError carrying its index in the batch.
func (be *BatchEncoder) Add(op model.Op) error {
	be.ww.op = int32(be.n)
	if err := encodeOp(&be.e, &be.ww, op); err != nil {
		return &OpError{Op: op, Index: be.n, Elem: -1, Expr: -1, Err: err}
	}
	be.n++
	return nil
}

// Len returns how many operations were added.
func (be *BatchEncoder) Len() int { return be.n }

// Size returns the size in bytes of the messages encoded so far.
func (be *BatchEncoder) Size() int { return be.w.size }

// ApplyEncodedAtGeneration is ApplyAtGeneration for a batch encoded with
// a BatchEncoder. ops must return the operations added to it, in the same
// order; it is called only when the kernel refuses the batch, to map each
// refusal back to its operation and source position.
func ApplyEncodedAtGeneration(ctx context.Context, be *BatchEncoder, ops func() (*model.Batch, error), opts Options, genid uint32) error {
	if be.n == 0 {
		return nil
	}
	if err := guardGeneration(&opts, genid); err != nil {
		return err
	}
	return applyWire(ctx, be.w, ops, opts)
}
