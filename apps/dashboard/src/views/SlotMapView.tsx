/**
 * Where the slot map goes. No peer publishes a slot map on the coordinator
 * channel yet (packages/replication is still landing it), so this says so
 * instead of drawing anything that looks like data.
 */
export function SlotMapView() {
  return (
    <section aria-labelledby="slots-heading">
      <h2 id="slots-heading">Slot map</h2>
      <p className="empty" data-testid="slots-unavailable">
        Not available yet: the cluster does not publish a slot map on the coordinator channel, so there is no
        source to draw the 16384 slots from. This view fills in when slot-map messages land.
      </p>
    </section>
  );
}
