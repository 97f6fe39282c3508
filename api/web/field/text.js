// The field page's shared words (states, kinds of visit, the ledger's fields, the conflict
// sentence) and how it writes dates and distances. The page is for party-building instructors
// in China: Chinese only, so there is no language switch; a sentence used by one view only
// stays beside that view.

export const STATE_NAMES = {
  branch: '已建党组织',
  instructor: '已派指导员',
  uncovered: '未覆盖',
  inactive: '停业或注销',
};

/** The kinds of visit the server accepts, in the order the buttons show them. */
export const VISIT_KINDS = ['走访', '电话', '实地查看', '蹲点'];

/** The ledger (五清台账) fields an instructor may correct, with the server's length limits. */
export const LEDGER_FIELDS = [
  { key: 'employees', label: '从业人员数', count: true, max: 100000000 },
  { key: 'party_members', label: '党员数', count: true, max: 10000000 },
  { key: 'person_in_charge', label: '负责人', chars: 50 },
  { key: 'phone', label: '联系电话', chars: 50, tel: true },
  { key: 'address', label: '地址', chars: 300 },
  { key: 'no_branch_reason', label: '未建党组织原因', chars: 500, multiline: true },
  { key: 'measure', label: '工作措施', chars: 500, multiline: true },
];

/** The measure is 一企一策 for an enterprise, 一社一策 for a social organization. */
export const measureLabel = (kind) => (kind === 'social' ? '一社一策措施' : '一企一策措施');

/** A ledger value as read from a record: counts at the top, the texts under `ledger`. */
export function ledgerValue(record, key) {
  if (!record) return '';
  if (key === 'employees' || key === 'party_members' || key === 'address') return record[key] ?? '';
  return record.ledger?.[key] ?? '';
}

/** Today in China (UTC+8, no daylight saving): the server refuses a visit dated after it,
 *  and the quarter a ledger counts for is China's, whatever the phone's own time zone. */
export function chinaToday(now = Date.now()) {
  return new Date(now + 8 * 3600 * 1000).toISOString().slice(0, 10);
}

/** An ISO time as China's wall clock, to the minute: 2026-12-07 10:30. */
export function chinaTime(iso) {
  const t = Date.parse(iso);
  return Number.isFinite(t) ? new Date(t + 8 * 3600 * 1000).toISOString().slice(0, 16).replace('T', ' ') : '';
}

export function distanceText(meters) {
  if (meters < 1000) return `约 ${Math.max(10, Math.round(meters / 10) * 10)} 米`;
  return `约 ${(meters / 1000).toFixed(meters < 100000 ? 1 : 0)} 公里`;
}

export const verifiedText = (day) => (day ? `上次核实 ${day}` : '尚未核实');

/** Server messages are shown only when they are Chinese; English ones give way to ours. */
export function chineseOrNull(message) {
  if (typeof message !== 'string' || !/[\u4e00-\u9fff]/.test(message)) return null;
  return /[A-Za-z]{2,}/.test(message.replace(/covermap/gi, '')) ? null : message;
}

export const conflictText = (orgName) => `${orgName}的台账已被他人修改，未提交；请核对后重新填写。`;
