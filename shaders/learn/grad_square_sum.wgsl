// The sum of squares of a gradient tensor, by one workgroup of 64 threads: each thread sums a
// strided share, then a tree in workgroup memory adds the shares; every thread gets the total.
// Shared by grad_norm.wgsl and adam_clip_each.wgsl, which declare `LEN` and the `grad` binding
// and launch one workgroup (call from uniform control flow: it holds barriers).

var<workgroup> partial: array<f32, 64>;

fn grad_square_sum(thread: u32) -> f32 {
    var sum = 0.0;
    for (var i = thread; i < LEN; i += 64u) {
        let g = grad[i];
        sum += g * g;
    }
    partial[thread] = sum;
    workgroupBarrier();
    for (var stride = 32u; stride > 0u; stride /= 2u) {
        if (thread < stride) {
            partial[thread] += partial[thread + stride];
        }
        workgroupBarrier();
    }
    return partial[0];
}
