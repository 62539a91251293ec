import { SLOT_COUNT } from '@tessera/core';
import { type KeyboardEvent, type MouseEvent, useEffect, useRef, useState } from 'react';
import { shortId } from '../format.ts';
import type { Snapshot } from '../session.ts';
import { type RangeInfo, type SlotMapModel, UNOWNED_COLOUR } from '../slot-map-model.ts';

/** Cells per row: 128 × 128 = 16384 slots. */
const COLUMNS = 128;
const CELL_PX = 4;
const SIZE_PX = COLUMNS * CELL_PX;
const INK = '#1b1b1b';

type Mark = { readonly under: boolean; readonly moving: boolean; readonly hatch: number };

/**
 * One cell. Colour is the primary owner; states are shapes so they never rely
 * on colour: under-replicated = a dark diagonal, moving = a hollow centre,
 * owners past the palette's size = a dark corner dot.
 */
function drawCell(ctx: CanvasRenderingContext2D, x: number, y: number, colour: string, mark: Mark): void {
  ctx.fillStyle = colour;
  ctx.fillRect(x, y, CELL_PX, CELL_PX);
  if (mark.moving) {
    ctx.fillStyle = '#ffffff';
    ctx.fillRect(x + 1, y + 1, CELL_PX - 2, CELL_PX - 2);
  }
  if (mark.under) {
    ctx.fillStyle = INK;
    for (let i = 0; i < CELL_PX; i++) ctx.fillRect(x + i, y + i, 1, 1);
  }
  if (mark.hatch > 0) {
    ctx.fillStyle = INK;
    ctx.fillRect(x + CELL_PX - 2, y, 2, 2);
  }
}

function drawMap(ctx: CanvasRenderingContext2D, model: SlotMapModel, selected: RangeInfo | undefined): void {
  ctx.clearRect(0, 0, SIZE_PX, SIZE_PX);
  for (let slot = 0; slot < SLOT_COUNT; slot++) {
    const owner = model.owners[model.primary[slot] as number];
    const x = (slot % COLUMNS) * CELL_PX;
    const y = Math.floor(slot / COLUMNS) * CELL_PX;
    drawCell(ctx, x, y, owner?.colour ?? UNOWNED_COLOUR, {
      under: model.underReplicated[slot] === 1,
      moving: model.moving[slot] === 1,
      hatch: owner?.hatch ?? 0,
    });
  }
  if (selected === undefined) return;
  // Outline the selected range (2 px of ink on every edge it shares with another range), so it stands out
  // without recolouring anything.
  ctx.fillStyle = INK;
  const inRange = (slot: number) =>
    slot >= 0 && slot < SLOT_COUNT && model.rangeIndex[slot] === selected.index;
  for (
    let slot = Math.max(0, selected.range.start);
    slot <= Math.min(SLOT_COUNT - 1, selected.range.end);
    slot++
  ) {
    const col = slot % COLUMNS;
    const x = col * CELL_PX;
    const y = Math.floor(slot / COLUMNS) * CELL_PX;
    if (col === 0 || !inRange(slot - 1)) ctx.fillRect(x, y, 2, CELL_PX);
    if (col === COLUMNS - 1 || !inRange(slot + 1)) ctx.fillRect(x + CELL_PX - 2, y, 2, CELL_PX);
    if (!inRange(slot - COLUMNS)) ctx.fillRect(x, y, CELL_PX, 2);
    if (!inRange(slot + COLUMNS)) ctx.fillRect(x, y + CELL_PX - 2, CELL_PX, 2);
  }
}

function Swatch({ colour, mark, label }: { colour: string; mark: Mark; label: string }) {
  const ref = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    const ctx = ref.current?.getContext('2d');
    if (!ctx) return;
    ctx.setTransform(4, 0, 0, 4, 0, 0);
    drawCell(ctx, 0, 0, colour, mark);
  }, [colour, mark]);
  return <canvas ref={ref} className="swatch" width={CELL_PX * 4} height={CELL_PX * 4} aria-label={label} />;
}

const PLAIN: Mark = { under: false, moving: false, hatch: 0 };
const UNDER: Mark = { under: true, moving: false, hatch: 0 };
const MOVING: Mark = { under: false, moving: true, hatch: 0 };

/** All 16384 slots on one canvas, coloured by primary owner, with the range under the pointer or selection. */
export function SlotMapView({ snapshot }: { snapshot: Snapshot }) {
  const model = snapshot.slots;
  if (model === undefined) {
    return (
      <section aria-labelledby="slots-heading">
        <h2 id="slots-heading">Slot map</h2>
        <p className="empty" data-testid="slots-unavailable">
          Not available: this tab's peer does not run the coordinator's slot map, so there is no source to
          draw the 16384 slots from.
        </p>
      </section>
    );
  }
  return <SlotMapCanvas model={model} />;
}

function SlotMapCanvas({ model }: { model: SlotMapModel }) {
  const canvas = useRef<HTMLCanvasElement>(null);
  const [selectedSlot, setSelectedSlot] = useState<number | undefined>(undefined);
  const [hoverSlot, setHoverSlot] = useState<number | undefined>(undefined);
  const rangeAt = (slot: number | undefined) =>
    slot === undefined ? undefined : model.ranges[model.rangeIndex[slot] as number];
  const selected = rangeAt(selectedSlot);
  const shown = rangeAt(hoverSlot) ?? selected;
  const shownSlot = hoverSlot ?? selectedSlot;

  useEffect(() => {
    const ctx = canvas.current?.getContext('2d');
    if (ctx) drawMap(ctx, model, selected);
  }, [model, selected]);

  const slotAtPointer = (event: MouseEvent<HTMLCanvasElement>) => {
    const box = event.currentTarget.getBoundingClientRect();
    const col = Math.floor(((event.clientX - box.left) / box.width) * COLUMNS);
    const row = Math.floor(((event.clientY - box.top) / box.height) * COLUMNS);
    if (col < 0 || col >= COLUMNS || row < 0 || row >= COLUMNS) return undefined;
    return row * COLUMNS + col;
  };

  // Arrows move a cell (up/down a row of 128), Page Up/Down jump a range, Home/End to the ends, Escape clears.
  const onKey = (event: KeyboardEvent<HTMLCanvasElement>) => {
    const at = selectedSlot ?? 0;
    const range = rangeAt(at);
    const step: Record<string, number | undefined> = {
      ArrowRight: at + 1,
      ArrowLeft: at - 1,
      ArrowDown: at + COLUMNS,
      ArrowUp: at - COLUMNS,
      PageDown: range === undefined ? at + COLUMNS : range.range.end + 1,
      PageUp:
        range === undefined ? at - COLUMNS : (rangeAt(Math.max(0, range.range.start - 1))?.range.start ?? 0),
      Home: 0,
      End: SLOT_COUNT - 1,
    };
    if (event.key === 'Escape') {
      setSelectedSlot(undefined);
      return;
    }
    // With nothing selected yet, an arrow selects the first slot; Home, End and the page keys go where they say.
    const next = selectedSlot === undefined && event.key.startsWith('Arrow') ? 0 : step[event.key];
    if (next === undefined) return;
    event.preventDefault();
    setSelectedSlot(Math.min(SLOT_COUNT - 1, Math.max(0, next)));
  };

  const moving = model.movingSlots > 0;
  return (
    <section aria-labelledby="slots-heading" className="slot-map">
      <h2 id="slots-heading">
        Slot map <span className="count">epoch {model.epoch}</span>
      </h2>
      <p
        className="slot-summary"
        data-testid="slots-summary"
        data-covered={model.covered}
        data-epoch={model.epoch}
        data-under={model.underReplicatedSlots}
        data-moving={model.movingSlots}
      >
        {model.epoch === 0 ? (
          <>No slot map committed yet: no slot has an owner.</>
        ) : (
          <>
            <strong>{model.covered}</strong> of {SLOT_COUNT} slots covered · {model.ranges.length} ranges ·{' '}
            {model.owners.length} owners · N = {model.replicas} ·{' '}
            <strong>{model.underReplicatedSlots}</strong> under-replicated ·{' '}
            <strong>{model.movingSlots}</strong> moving
            {moving ? ` (to epoch ${model.pendingEpoch})` : ''}
          </>
        )}
      </p>
      <div className="slot-layout">
        <canvas
          ref={canvas}
          className="slot-canvas"
          data-testid="slot-canvas"
          width={SIZE_PX}
          height={SIZE_PX}
          tabIndex={0}
          role="img"
          aria-label={`Slot map, epoch ${model.epoch}: ${model.covered} of ${SLOT_COUNT} slots covered in ${model.ranges.length} ranges. Arrow keys select a slot, Page Up and Page Down move by range.`}
          onMouseMove={(event) => setHoverSlot(slotAtPointer(event))}
          onMouseLeave={() => setHoverSlot(undefined)}
          onClick={(event) => setSelectedSlot(slotAtPointer(event))}
          onKeyDown={onKey}
        />
        <div className="slot-side">
          <div className="slot-details" aria-live="polite" data-testid="slot-details">
            {shown === undefined || shownSlot === undefined ? (
              <p className="muted">
                Hover a cell, click it, or focus the map and use the arrow keys. A selected range is outlined.
              </p>
            ) : (
              <RangeDetails info={shown} slot={shownSlot} model={model} />
            )}
          </div>
          <h3>Primary owner</h3>
          <ul className="slot-legend" data-testid="slot-legend">
            {model.owners.map((owner) => (
              <li key={owner.id} data-owner={owner.id}>
                <Swatch
                  colour={owner.colour}
                  mark={{ ...PLAIN, hatch: owner.hatch }}
                  label={`colour of ${owner.id}`}
                />
                <code title={owner.id}>{shortId(owner.id)}</code> {owner.primarySlots} slots
                {owner.up ? '' : ' · ✕ down'}
              </li>
            ))}
            <li>
              <Swatch colour={UNOWNED_COLOUR} mark={PLAIN} label="no owner" /> no owner
            </li>
          </ul>
          <h3>Marks</h3>
          <ul className="slot-legend">
            <li>
              <Swatch colour={UNOWNED_COLOUR} mark={UNDER} label="under-replicated mark" /> diagonal:
              under-replicated (fewer than N owners up)
            </li>
            <li>
              <Swatch colour={UNOWNED_COLOUR} mark={MOVING} label="moving mark" /> hollow: moving (a change in
              flight gives it other owners)
            </li>
          </ul>
        </div>
      </div>
    </section>
  );
}

function RangeDetails({ info, slot, model }: { info: RangeInfo; slot: number; model: SlotMapModel }) {
  const { range } = info;
  const size = range.end - range.start + 1;
  const upOf = (id: string) => model.owners.find((o) => o.id === id)?.up ?? true;
  return (
    <dl data-range-start={range.start} data-range-end={range.end}>
      <dt>Slot</dt>
      <dd>{slot}</dd>
      <dt>Range</dt>
      <dd>
        {range.start}–{range.end} ({size} slot{size === 1 ? '' : 's'})
      </dd>
      <dt>Owners</dt>
      <dd>
        <ol className="owner-list">
          {range.owners.map((owner, i) => (
            <li key={owner} title={owner}>
              <code>{shortId(owner)}</code> {i === 0 ? '(primary)' : ''} {upOf(owner) ? '● up' : '✕ down'}
            </li>
          ))}
        </ol>
      </dd>
      <dt>Epoch</dt>
      <dd>{range.epoch}</dd>
      <dt>Replication</dt>
      <dd>
        {info.upOwners} of {model.replicas} up{info.underReplicated ? ' — under-replicated' : ''}
      </dd>
      {info.nextOwners !== undefined ? (
        <>
          <dt>Moving to</dt>
          <dd>
            {info.nextOwners.map(shortId).join(', ')} (epoch {model.pendingEpoch})
          </dd>
        </>
      ) : null}
    </dl>
  );
}
