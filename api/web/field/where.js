// Where the phone is, for the distance to each organization. Without permission (or over
// plain HTTP, where browsers give no position) there is none and the list goes by name.

const R = 6371008.8;  // mean Earth radius, metres
const rad = (d) => (d * Math.PI) / 180;

/** Great-circle distance in metres between two {lon, lat}. */
export function metersBetween(a, b) {
  const dLat = rad(b.lat - a.lat);
  const dLon = rad(b.lon - a.lon);
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(rad(a.lat)) * Math.cos(rad(b.lat)) * Math.sin(dLon / 2) ** 2;
  return 2 * R * Math.asin(Math.min(1, Math.sqrt(h)));
}

/** Calls `onPosition({lon, lat})` when the phone has moved by more than `minMeters`, and
 *  `onNone()` once if there is no position to be had. */
export function watchPosition(onPosition, onNone, minMeters = 50) {
  if (!('geolocation' in navigator)) { onNone(); return () => {}; }
  let last = null;
  let told = false;
  const id = navigator.geolocation.watchPosition(
    (p) => {
      const here = { lon: p.coords.longitude, lat: p.coords.latitude };
      if (last && metersBetween(last, here) < minMeters) return;
      last = here;
      onPosition(here);
    },
    () => { if (!last && !told) { told = true; onNone(); } },
    { enableHighAccuracy: false, maximumAge: 60000, timeout: 20000 },
  );
  return () => navigator.geolocation.clearWatch(id);
}
