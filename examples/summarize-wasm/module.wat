;; summarize_text: a WASI command. Reads JSON (any bytes) on stdin until EOF and writes
;; {"bytes":N,"words":W} on stdout: N input bytes, W whitespace-separated words. Streams: any input size.
(module
  (import "wasi_snapshot_preview1" "fd_read" (func $fd_read (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))
  (memory (export "memory") 1)
  ;; 0: iovec {ptr, len}; 8: bytes read/written; 16: output prefix strings; 1024: input buffer (4 KiB);
  ;; 8192: output line; 9000: digit scratch.
  (data (i32.const 16) "{\22bytes\22:")
  (data (i32.const 32) ",\22words\22:")
  (data (i32.const 48) "}\0a")

  ;; copy len bytes from src to dst, return dst + len
  (func $copy (param $dst i32) (param $src i32) (param $len i32) (result i32)
    (memory.copy (local.get $dst) (local.get $src) (local.get $len))
    (i32.add (local.get $dst) (local.get $len)))

  ;; write the decimal digits of an unsigned i64 at dst, return the end
  (func $itoa (param $dst i32) (param $value i64) (result i32)
    (local $n i32)
    (loop $digits
      (i64.store8 (i32.add (i32.const 9000) (local.get $n)) (i64.add (i64.const 48) (i64.rem_u (local.get $value) (i64.const 10))))
      (local.set $n (i32.add (local.get $n) (i32.const 1)))
      (local.set $value (i64.div_u (local.get $value) (i64.const 10)))
      (br_if $digits (i64.ne (local.get $value) (i64.const 0))))
    (loop $reverse
      (local.set $n (i32.sub (local.get $n) (i32.const 1)))
      (i32.store8 (local.get $dst) (i32.load8_u (i32.add (i32.const 9000) (local.get $n))))
      (local.set $dst (i32.add (local.get $dst) (i32.const 1)))
      (br_if $reverse (i32.gt_s (local.get $n) (i32.const 0))))
    (local.get $dst))

  (func (export "_start")
    (local $bytes i64) (local $words i64) (local $inword i32) (local $n i32) (local $i i32) (local $c i32) (local $end i32)
    (block $eof
      (loop $read
        (i32.store (i32.const 0) (i32.const 1024))
        (i32.store (i32.const 4) (i32.const 4096))
        (if (i32.ne (call $fd_read (i32.const 0) (i32.const 0) (i32.const 1) (i32.const 8)) (i32.const 0))
          (then (call $proc_exit (i32.const 1))))
        (local.set $n (i32.load (i32.const 8)))
        (br_if $eof (i32.eqz (local.get $n)))
        (local.set $bytes (i64.add (local.get $bytes) (i64.extend_i32_u (local.get $n))))
        (local.set $i (i32.const 0))
        (loop $scan
          (local.set $c (i32.load8_u (i32.add (i32.const 1024) (local.get $i))))
          (if (i32.or (i32.or (i32.eq (local.get $c) (i32.const 32)) (i32.eq (local.get $c) (i32.const 9)))
                      (i32.and (i32.ge_u (local.get $c) (i32.const 10)) (i32.le_u (local.get $c) (i32.const 13))))
            (then (local.set $inword (i32.const 0)))
            (else
              (if (i32.eqz (local.get $inword))
                (then
                  (local.set $words (i64.add (local.get $words) (i64.const 1)))
                  (local.set $inword (i32.const 1))))))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br_if $scan (i32.lt_u (local.get $i) (local.get $n))))
        (br $read)))
    (local.set $end (call $copy (i32.const 8192) (i32.const 16) (i32.const 9)))
    (local.set $end (call $itoa (local.get $end) (local.get $bytes)))
    (local.set $end (call $copy (local.get $end) (i32.const 32) (i32.const 9)))
    (local.set $end (call $itoa (local.get $end) (local.get $words)))
    (local.set $end (call $copy (local.get $end) (i32.const 48) (i32.const 2)))
    (i32.store (i32.const 0) (i32.const 8192))
    (i32.store (i32.const 4) (i32.sub (local.get $end) (i32.const 8192)))
    (if (i32.ne (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)) (i32.const 0))
      (then (call $proc_exit (i32.const 1))))))
