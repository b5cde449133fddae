// Neighbourhood mean field on a uniform grid: shared constants and cell lookup.
//
// Each env's agents live in the square [−HALF_EXTENT, HALF_EXTENT]²; the square is cut into
// SIDE×SIDE cells no smaller than RADIUS, so every neighbour within RADIUS of an agent lies in the
// 3×3 cells around the agent's cell. Agents outside the square are binned into the edge cells
// (clamping keeps that property). Needs grid.wgsl before it.

const N_ENVS: u32 = {{n_envs}}u;
const K: u32 = {{agents}}u;
const SIDE: u32 = {{side}}u;
const CELLS: u32 = SIDE * SIDE;
const HALF_EXTENT: f32 = {{half_extent}};
const CELL_SIZE: f32 = {{cell_size}};
const RADIUS: f32 = {{radius}};
const N_ACTIONS: u32 = {{n_actions}}u;
// Cells per scan block (the scan's serial loops are this long).
const BLOCK: u32 = 64u;
const BLOCKS: u32 = (CELLS + BLOCK - 1u) / BLOCK;

fn cell_coords(pos: vec2<f32>) -> vec2<i32> {
    let c = floor((pos + vec2<f32>(HALF_EXTENT)) / CELL_SIZE);
    return vec2<i32>(clamp(c, vec2<f32>(0.0), vec2<f32>(f32(SIDE - 1u))));
}

fn cell_of(pos: vec2<f32>) -> u32 {
    let c = cell_coords(pos);
    return u32(c.y) * SIDE + u32(c.x);
}
