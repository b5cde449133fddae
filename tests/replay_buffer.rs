//! The device-resident replay buffer of the off-policy learners: rows written in order, the ring
//! wrapping around, samples that keep a transition's fields together and cover the buffer
//! uniformly, writes in place that leave earlier reads alone, index streams that depend on the seed alone, a checkpoint that resumes the exact
//! sample sequence, and errors that name what does not fit.

mod common;

use burn::tensor::Tensor;
use shoal::train::off_policy::ReplayBuffer;
use shoal::GpuContext;

/// Rows `first..first + n` of a two-field batch: `obs` = [id, 10·id], `action` = [−id].
fn rows(ctx: &GpuContext, first: usize, n: usize) -> Vec<Tensor<2>> {
    let obs: Vec<f32> = (first..first + n).flat_map(|i| [i as f32, 10.0 * i as f32]).collect();
    let action: Vec<f32> = (first..first + n).map(|i| -(i as f32)).collect();
    vec![ctx.upload_f32(&obs, [n, 2]).unwrap(), ctx.upload_f32(&action, [n, 1]).unwrap()]
}

fn ids(ctx: &GpuContext, field: Tensor<2>) -> Vec<f32> {
    let width = field.dims()[1];
    ctx.read_f32(field).unwrap().chunks(width).map(|row| row[0]).collect()
}

#[test]
fn push_wraps_around_and_keeps_the_newest_rows() {
    let ctx = GpuContext::shared().unwrap();
    let mut buffer = ReplayBuffer::new(ctx.clone(), 10, &[("obs", 2), ("action", 1)], 0).unwrap();
    assert!(buffer.is_empty());
    buffer.push(&rows(&ctx, 0, 7)).unwrap();
    assert_eq!((buffer.len(), buffer.cursor()), (7, 7));
    // 6 more: 3 fill the end, 3 wrap to the front over rows 0..3.
    buffer.push(&rows(&ctx, 7, 6)).unwrap();
    assert_eq!((buffer.len(), buffer.cursor()), (10, 3));
    let expected: Vec<f32> = [10.0, 11.0, 12.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0].to_vec();
    assert_eq!(ids(&ctx, buffer.field("obs").unwrap()), expected);
    let action: Vec<f32> = ctx.read_f32(buffer.field("action").unwrap()).unwrap();
    assert_eq!(action, expected.iter().map(|v| -v).collect::<Vec<_>>());
    // A push as large as the ring replaces it whole.
    buffer.push(&rows(&ctx, 100, 10)).unwrap();
    assert_eq!(buffer.cursor(), 3);
    let mut held = ids(&ctx, buffer.field("obs").unwrap());
    held.sort_by(f32::total_cmp);
    assert_eq!(held, (100..110).map(|i| i as f32).collect::<Vec<_>>());
}

/// Pushes write the ring in place (no copy of the whole ring per step); a ring or a sample read
/// before a push must still hold what it held, and the buffer what was pushed.
#[test]
fn what_was_read_before_a_push_is_not_overwritten_by_it() {
    let ctx = GpuContext::shared().unwrap();
    let mut buffer = ReplayBuffer::new(ctx.clone(), 8, &[("obs", 2), ("action", 1)], 1).unwrap();
    buffer.push(&rows(&ctx, 0, 4)).unwrap();
    let ring_before = buffer.field("obs").unwrap();
    let sample_before = buffer.sample(16).unwrap();
    let sampled = ids(&ctx, sample_before[0].clone());
    buffer.push(&rows(&ctx, 50, 8)).unwrap();
    assert_eq!(ids(&ctx, ring_before), [0.0, 1.0, 2.0, 3.0, 0.0, 0.0, 0.0, 0.0]);
    assert_eq!(ids(&ctx, sample_before[0].clone()), sampled);
    assert_eq!(ids(&ctx, buffer.field("obs").unwrap()), [54.0, 55.0, 56.0, 57.0, 50.0, 51.0, 52.0, 53.0]);
}

#[test]
fn samples_keep_transitions_whole_and_cover_the_buffer_uniformly() {
    let ctx = GpuContext::shared().unwrap();
    let mut buffer = ReplayBuffer::new(ctx.clone(), 64, &[("obs", 2), ("action", 1)], 7).unwrap();
    buffer.push(&rows(&ctx, 0, 10)).unwrap();
    let mut counts = [0usize; 10];
    for _ in 0..20 {
        let batch = buffer.sample(500).unwrap();
        let obs = ctx.read_f32(batch[0].clone()).unwrap();
        let action = ctx.read_f32(batch[1].clone()).unwrap();
        for (row, a) in obs.chunks(2).zip(&action) {
            // Only rows written are drawn (10 of 64), and every field comes from the same row.
            assert!(row[0] >= 0.0 && row[0] < 10.0 && row[0].fract() == 0.0, "{row:?}");
            assert_eq!((row[1], *a), (10.0 * row[0], -row[0]));
            counts[row[0] as usize] += 1;
        }
    }
    // 10,000 draws over 10 rows: each expected 1,000, standard deviation 30.
    assert!(counts.iter().all(|&c| (850..1150).contains(&c)), "{counts:?}");
}

#[test]
fn index_streams_depend_on_the_seed_and_draw_count_alone() {
    let ctx = GpuContext::shared().unwrap();
    let filled = |seed: u64| {
        let mut buffer = ReplayBuffer::new(ctx.clone(), 1000, &[("obs", 2), ("action", 1)], seed).unwrap();
        buffer.push(&rows(&ctx, 0, 1000)).unwrap();
        buffer
    };
    let draw = |buffer: &mut ReplayBuffer, batch: usize| ctx.read_i32(buffer.sample_indices(batch).unwrap()).unwrap();
    let (mut a, mut b, mut other) = (filled(3), filled(3), filled(4));
    let first = draw(&mut a, 256);
    assert_eq!(first, draw(&mut b, 256), "same seed, same indices");
    assert_ne!(first, draw(&mut other, 256), "another seed, other indices");
    // Index k of a batch is stream k: a smaller batch is a prefix of a larger one.
    let mut small = filled(3);
    assert_eq!(draw(&mut small, 32), first[..32].to_vec());
    // The next batch is a new draw, not a repeat.
    assert_ne!(draw(&mut a, 256), first);
}

#[test]
fn a_checkpointed_buffer_resumes_the_same_samples() {
    let ctx = GpuContext::shared().unwrap();
    let dir = common::scratch_dir("replay-checkpoint");
    let mut buffer = ReplayBuffer::new(ctx.clone(), 50, &[("obs", 2), ("action", 1)], 11).unwrap();
    buffer.push(&rows(&ctx, 0, 40)).unwrap();
    buffer.push(&rows(&ctx, 40, 30)).unwrap();
    buffer.sample(16).unwrap();
    buffer.save(&dir).unwrap();
    let mut resumed = ReplayBuffer::load(ctx.clone(), &dir, 11).unwrap();
    assert_eq!((resumed.len(), resumed.cursor(), resumed.field_names()), (50, 20, vec!["obs", "action"]));
    for name in ["obs", "action"] {
        assert_eq!(ctx.read_f32(resumed.field(name).unwrap()).unwrap(), ctx.read_f32(buffer.field(name).unwrap()).unwrap(), "{name}");
    }
    for _ in 0..3 {
        let (ours, theirs) = (buffer.sample(16).unwrap(), resumed.sample(16).unwrap());
        assert_eq!(ctx.read_f32(ours[0].clone()).unwrap(), ctx.read_f32(theirs[0].clone()).unwrap());
    }
    // A truncated field file is named, not loaded.
    let file = dir.join("replay.obs.f32");
    let bytes = std::fs::read(&file).unwrap();
    std::fs::write(&file, &bytes[..bytes.len() - 4]).unwrap();
    let message = ReplayBuffer::load(ctx.clone(), &dir, 11).err().unwrap().to_string();
    assert!(message.contains("replay.obs.f32"), "{message}");
    // A half-filled buffer saves only what it holds, and loads back.
    let mut partial = ReplayBuffer::new(ctx.clone(), 50, &[("obs", 2)], 1).unwrap();
    partial.push(&rows(&ctx, 0, 5)[..1]).unwrap();
    partial.save(&dir).unwrap();
    assert_eq!(std::fs::metadata(&file).unwrap().len(), 5 * 2 * 4);
    assert_eq!(ids(&ctx, ReplayBuffer::load(ctx.clone(), &dir, 1).unwrap().field("obs").unwrap())[..5], [0.0, 1.0, 2.0, 3.0, 4.0]);
}

#[test]
fn what_does_not_fit_is_named() {
    let ctx = GpuContext::shared().unwrap();
    // 4,096 floats a transition: under 2²⁴ rows overflow any adapter's storage buffer below 256 GiB.
    let huge = (ctx.max_storage_bytes() / (4 * 4096) + 1) as usize;
    assert!(huge <= shoal::train::off_policy::MAX_CAPACITY);
    let message = ReplayBuffer::new(ctx.clone(), huge, &[("obs", 4096)], 0).err().expect("over the adapter's storage limit").to_string();
    assert!(message.contains("`obs`") && message.contains("at most"), "{message}");
    assert!(ReplayBuffer::new(ctx.clone(), 0, &[("obs", 2)], 0).is_err());
    assert!(ReplayBuffer::new(ctx.clone(), shoal::train::off_policy::MAX_CAPACITY + 1, &[("obs", 2)], 0).is_err());
    let mut buffer = ReplayBuffer::new(ctx.clone(), 4, &[("obs", 2), ("action", 1)], 0).unwrap();
    let message = buffer.sample(8).err().unwrap().to_string();
    assert!(message.contains("empty"), "{message}");
    let message = buffer.push(&rows(&ctx, 0, 5)).err().unwrap().to_string();
    assert!(message.contains("at least that large"), "{message}");
    let wrong = vec![ctx.upload_f32(&[0.0; 3], [1, 3]).unwrap(), ctx.upload_f32(&[0.0], [1, 1]).unwrap()];
    assert!(buffer.push(&wrong).is_err(), "obs is 2 wide");
    assert!(buffer.push(&rows(&ctx, 0, 2)[..1]).is_err(), "one tensor per field");
}
