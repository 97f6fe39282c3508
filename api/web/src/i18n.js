// Every string the page shows, in Chinese (the default) and English, in one place.
const strings = {
  zh: {
    'title': 'covermap 两个覆盖规划',
    'level': '层级', 'level.district': '区县', 'level.park': '园区', 'level.street': '街道', 'level.community': '社区', 'level.grid': '网格',
    'search.placeholder': '搜索组织名称、信用代码或区域', 'search.none': '没有找到', 'search.area': '区域', 'search.org': '组织',
    'lang.switch': 'English', 'signout': '退出',
    'signin.title': '登录', 'signin.help': '请输入管理员发给您的访问令牌（以 cm_ 开头）。', 'signin.token': '访问令牌', 'signin.submit': '登录',
    'signin.bad': '令牌无效或已失效，请向管理员确认。',
    'role.viewer': '查看', 'role.planner': '规划', 'role.admin': '管理员',
    'map.label': '覆盖地图', 'map.loading': '正在加载地图…', 'map.tileError': '部分地图瓦片加载失败，请检查网络或稍后重试。', 'map.empty': '该区域没有数据。', 'map.ownBase': '行政边界', 'map.externalBase': '底图',
    'layers': '图层', 'layer.heatmap': '未覆盖热力图', 'layer.orgs': '组织', 'layer.assignments': '指导员联系', 'layer.opacity': '透明度',
    'tab.coverage': '覆盖情况', 'tab.org': '组织', 'tab.plans': '规划方案', 'tab.export': '导出',
    'tab.report': '月报', 'report.title': '月报与走势', 'report.month': '月报', 'report.quarter': '季报', 'report.period': '期间', 'report.area': '范围',
    'report.all': '全部区县', 'report.download': '下载报告', 'report.note': '报告含总体指标、与上期相比的变化、目标差距、覆盖地图、各街道和园区排名、走势与问题清单；本月报告使用当前数据，往月使用当月快照。',
    'report.whole': '看全部区县', 'report.trend': '{name}覆盖率走势', 'report.now': '(当前)', 'report.goal': '目标',
    'report.target': '{metric}：目标 {goal}，当前 {now}，期限 {deadline}', 'report.noTargets': '尚未设定目标（covermap target set）。',
    'metric.org_coverage': '组织覆盖率', 'metric.standalone_rate': '单独组建率', 'metric.work_coverage': '工作覆盖率', 'metric.instructor_coverage': '指导员覆盖率', 'metric.member_rate': '有党员比例',
    'cov.target': '目标 {goal}',
    'cov.title': '{level}覆盖情况', 'cov.total': '合计', 'cov.name': '名称', 'cov.org': '组织覆盖', 'cov.standalone': '单独组建',
    'cov.work': '工作覆盖', 'cov.instructor': '指导员覆盖', 'cov.uncovered': '未覆盖', 'cov.operating': '在营组织',
    'cov.chart': '组织覆盖率（低者在前）', 'cov.clickRow': '点击一行可在地图上定位该区域。',
    'area.card': '{name}', 'area.uncoveredList': '未覆盖的组织（{n}）', 'area.none': '没有未覆盖的组织。',
    'org.none': '在地图上点击一个组织，或在搜索框中查找。', 'org.kind': '类型', 'org.industry': '行业', 'org.employees': '从业人员',
    'org.members': '党员', 'org.branch': '党组织', 'org.instructor': '党建指导员', 'org.credit': '信用代码', 'org.status': '状态', 'org.id': '编号',
    'org.noBranch': '无', 'org.noInstructor': '未指派',
    'kind.enterprise': '非公企业', 'kind.social': '社会组织',
    'status.operating': '在营', 'status.suspended': '停业', 'status.deregistered': '注销',
    'state.branch': '已建党组织', 'state.instructor': '有指导员', 'state.uncovered': '未覆盖', 'state.inactive': '停业/注销',
    'pick.title': '指派党建指导员（按距离）', 'pick.assign': '指派', 'pick.remove': '取消指派', 'pick.current': '当前', 'pick.match': '行业匹配',
    'pick.km': '{d} 公里', 'pick.load': '{load}/{cap}',
    'pick.done': '已指派 {name}。', 'pick.removed': '已取消指派。',
    'err.409': '{name}已满员（最多联系 {cap} 个组织）。请选择另一位指导员，或先为其减少联系的组织。',
    'err.conflict': '该指导员已满员。请选择另一位指导员。',
    'err.412': '这条记录刚被其他人修改过。已为您重新载入最新情况，请确认后再操作。',
    'err.401': '登录已失效，请重新登录。', 'err.403': '您的账号只能查看，不能修改。', 'err.network': '无法连接服务器，请检查网络。',
    'err.generic': '操作未完成：{msg}',
    'history.title': '指派记录', 'history.none': '暂无记录。', 'history.assign': '{by} 指派 {to}', 'history.remove': '{by} 取消指派', 'history.plan': '{by} 采纳规划',
    'plans.title': '规划方案', 'plans.run': '生成规划', 'plans.level': '规划层级', 'plans.running': '正在生成规划…',
    'plans.reach': '采纳全部后：组织覆盖率 {orgNow} → {orgAfter}，工作覆盖率 {workNow} → {workAfter}',
    'plans.type.standalone': '单独组建', 'plans.type.joint': '联合组建', 'plans.type.affiliate': '挂靠', 'plans.type.instructor': '指导员',
    'plans.acceptSelected': '采纳所选', 'plans.acceptAll': '全部采纳', 'plans.accepted': '已采纳 {n} 项，冲突 {c} 项。',
    'plans.flags': '需关注的问题', 'plans.none': '尚未生成规划。', 'plans.previous': '已有方案',
    'flag.shell_branch': '空壳党组织', 'flag.no_members': '50人以上无党员', 'flag.instructor_over_capacity': '指导员超负荷',
    'flag.outside_grid': '不在任何网格内', 'flag.duplicate_credit_code': '信用代码重复', 'flag.invalid_credit_code': '信用代码无效', 'flag.joint_over_cap': '联合支部超过5个组织',
    'export.title': '导出数据', 'export.layer': '图层', 'export.area': '范围', 'export.all': '全部', 'export.format': '格式',
    'export.encoding': '编码', 'export.srs': '坐标系', 'export.download': '下载',
    'export.layer.orgs': '两新组织', 'export.layer.areas': '区域（含覆盖率）', 'export.layer.instructors': '党建指导员',
    'export.layer.branches': '党组织', 'export.layer.assignments': '指导员联系',
    'export.note': 'Shapefile 为 zip 压缩包（含 .cpg），可直接导入网格化管理系统。',
    'legend.title': '图例',
    'org.address': '住所', 'org.person': '负责人',
    'precision.community': '按地址定位到社区', 'precision.street': '按地址定位到街道', 'precision.district': '按地址定位到区县', 'precision.exact': '精确',
    'ledger.title': '台账与基本情况', 'ledger.no_branch_reason': '未建党组织原因', 'ledger.measure': '一企一策措施', 'ledger.save': '保存', 'ledger.saved': '台账已保存。',
    'history.other': '{by} 修改记录',
    'layers.toggle': '图层与图例',
    'cov.filter': '按名称或代码筛选', 'cov.prev': '上一页', 'cov.next': '下一页', 'cov.rows': '第 {from}–{to} 行，共 {n} 行',
    'plans.scope': '范围', 'plans.scopeAll': '全市', 'plans.scopeWhole': '{name}（全区）', 'plans.locate': '定位',
    'plans.status.open': '待采纳', 'plans.status.accepted': '已采纳 {n}/{m}',
    'plans.legend': '方案图例', 'plans.legend.joint': '联合组建的组织', 'plans.legend.instructor': '指导员联系', 'plans.legend.org': '方案涉及的组织',
    'undo.button': '撤销', 'undo.close': '关闭', 'undo.done': '已撤销。', 'undo.refused': '无法撤销：{why}', 'undo.more': '另有 {n} 家',
    'confirm.ok': '确定', 'confirm.cancel': '取消',
    'confirm.unassign': '取消“{org}”的指导员{name}？', 'confirm.acceptAll': '采纳全部 {n} 项建议？将改变 {orgs} 家组织。',
    'changes.title': '变更记录', 'changes.none': '暂无变更。', 'changes.reverted': '已撤销', 'changes.confirm': '撤销这项变更？{summary}',
    'pick.fullReason': '{name}已满员（{load}/{cap}），不能再指派',
  },
  en: {
    'title': 'covermap two-coverages planning',
    'level': 'Level', 'level.district': 'District', 'level.park': 'Parks', 'level.street': 'Streets', 'level.community': 'Communities', 'level.grid': 'Grid',
    'search.placeholder': 'Search organization, credit code or area', 'search.none': 'Nothing found', 'search.area': 'area', 'search.org': 'organization',
    'lang.switch': '中文', 'signout': 'Sign out',
    'signin.title': 'Sign in', 'signin.help': 'Enter the access token your administrator gave you (it starts with cm_).', 'signin.token': 'Access token', 'signin.submit': 'Sign in',
    'signin.bad': 'The token is not valid; ask your administrator.',
    'role.viewer': 'viewer', 'role.planner': 'planner', 'role.admin': 'admin',
    'map.label': 'Coverage map', 'map.loading': 'Loading the map…', 'map.tileError': 'Some map tiles failed to load; check the network or try again.', 'map.empty': 'No data here.', 'map.ownBase': 'Borders only', 'map.externalBase': 'Base map',
    'layers': 'Layers', 'layer.heatmap': 'Uncovered heatmap', 'layer.orgs': 'Organizations', 'layer.assignments': 'Instructor links', 'layer.opacity': 'Opacity',
    'tab.coverage': 'Coverage', 'tab.org': 'Organization', 'tab.plans': 'Plans', 'tab.export': 'Export',
    'tab.report': 'Report', 'report.title': 'Monthly report and trend', 'report.month': 'Month', 'report.quarter': 'Quarter', 'report.period': 'Period', 'report.area': 'Area',
    'report.all': 'All districts', 'report.download': 'Download report', 'report.note': 'Headline figures, change since the last period, distance to targets, coverage map, streets and parks worst first, trend and flags; this month uses the data now, earlier months their snapshot.',
    'report.whole': 'Show all districts', 'report.trend': 'Coverage trend: {name}', 'report.now': '(now)', 'report.goal': 'Target',
    'report.target': '{metric}: target {goal}, now {now}, by {deadline}', 'report.noTargets': 'No targets set yet (covermap target set).',
    'metric.org_coverage': 'Organizational coverage', 'metric.standalone_rate': 'Standalone rate', 'metric.work_coverage': 'Work coverage', 'metric.instructor_coverage': 'Instructor coverage', 'metric.member_rate': 'With party members',
    'cov.target': 'target {goal}',
    'cov.title': 'Coverage by {level}', 'cov.total': 'Total', 'cov.name': 'Name', 'cov.org': 'Org.', 'cov.standalone': 'Standalone',
    'cov.work': 'Work', 'cov.instructor': 'Instructor', 'cov.uncovered': 'Uncovered', 'cov.operating': 'Operating',
    'cov.chart': 'Organizational coverage (worst first)', 'cov.clickRow': 'Click a row to find the area on the map.',
    'area.card': '{name}', 'area.uncoveredList': 'Uncovered organizations ({n})', 'area.none': 'No uncovered organization.',
    'org.none': 'Click an organization on the map, or search for one.', 'org.kind': 'Kind', 'org.industry': 'Industry', 'org.employees': 'Employees',
    'org.members': 'Party members', 'org.branch': 'Branch', 'org.instructor': 'Instructor', 'org.credit': 'Credit code', 'org.status': 'Status', 'org.id': 'Id',
    'org.noBranch': 'none', 'org.noInstructor': 'none',
    'kind.enterprise': 'enterprise', 'kind.social': 'social organization',
    'status.operating': 'operating', 'status.suspended': 'suspended', 'status.deregistered': 'deregistered',
    'state.branch': 'has a branch', 'state.instructor': 'has an instructor', 'state.uncovered': 'uncovered', 'state.inactive': 'not operating',
    'pick.title': 'Assign an instructor (nearest first)', 'pick.assign': 'Assign', 'pick.remove': 'Remove', 'pick.current': 'current', 'pick.match': 'industry match',
    'pick.km': '{d} km', 'pick.load': '{load}/{cap}',
    'pick.done': '{name} assigned.', 'pick.removed': 'Instructor removed.',
    'err.409': '{name} is full (at most {cap} organizations). Pick another instructor, or free one of theirs first.',
    'err.conflict': 'That instructor is full. Pick another one.',
    'err.412': 'Someone else changed this record just now. It has been reloaded: check it and try again.',
    'err.401': 'Your sign-in has expired; sign in again.', 'err.403': 'Your account may view but not change.', 'err.network': 'Cannot reach the server; check the network.',
    'err.generic': 'Not done: {msg}',
    'history.title': 'Assignment history', 'history.none': 'No history yet.', 'history.assign': '{by} assigned {to}', 'history.remove': '{by} removed the instructor', 'history.plan': '{by} accepted a plan',
    'plans.title': 'Plans', 'plans.run': 'Run the planner', 'plans.level': 'Level', 'plans.running': 'Planning…',
    'plans.reach': 'If all are accepted: organizational coverage {orgNow} → {orgAfter}, work coverage {workNow} → {workAfter}',
    'plans.type.standalone': 'Standalone', 'plans.type.joint': 'Joint', 'plans.type.affiliate': 'Affiliation', 'plans.type.instructor': 'Instructor',
    'plans.acceptSelected': 'Accept selected', 'plans.acceptAll': 'Accept all', 'plans.accepted': '{n} accepted, {c} in conflict.',
    'plans.flags': 'Flags', 'plans.none': 'No plan yet.', 'plans.previous': 'Earlier plans',
    'flag.shell_branch': 'shell branch', 'flag.no_members': '50+ employees, no members', 'flag.instructor_over_capacity': 'instructor over capacity',
    'flag.outside_grid': 'outside every grid cell', 'flag.duplicate_credit_code': 'duplicate credit code', 'flag.invalid_credit_code': 'invalid credit code', 'flag.joint_over_cap': 'joint branch over 5',
    'export.title': 'Export', 'export.layer': 'Layer', 'export.area': 'Area', 'export.all': 'All', 'export.format': 'Format',
    'export.encoding': 'Encoding', 'export.srs': 'CRS', 'export.download': 'Download',
    'export.layer.orgs': 'Organizations', 'export.layer.areas': 'Areas (with coverage)', 'export.layer.instructors': 'Instructors',
    'export.layer.branches': 'Branches', 'export.layer.assignments': 'Instructor links',
    'export.note': 'Shapefiles come zipped (with .cpg) for the grid management system.',
    'legend.title': 'Legend',
    'org.address': 'Address', 'org.person': 'Person in charge',
    'precision.community': 'placed by address: community', 'precision.street': 'placed by address: street', 'precision.district': 'placed by address: district', 'precision.exact': 'exact',
    'ledger.title': 'Ledger', 'ledger.no_branch_reason': 'Why no branch yet', 'ledger.measure': 'Measure decided', 'ledger.save': 'Save', 'ledger.saved': 'Ledger saved.',
    'history.other': '{by} corrected the record',
    'layers.toggle': 'Layers and legend',
    'cov.filter': 'Filter by name or code', 'cov.prev': 'Previous', 'cov.next': 'Next', 'cov.rows': 'rows {from}–{to} of {n}',
    'plans.scope': 'Scope', 'plans.scopeAll': 'Whole city', 'plans.scopeWhole': '{name} (whole)', 'plans.locate': 'Locate',
    'plans.status.open': 'open', 'plans.status.accepted': 'accepted {n}/{m}',
    'plans.legend': 'Plan legend', 'plans.legend.joint': 'Joint branch', 'plans.legend.instructor': 'Instructor link', 'plans.legend.org': 'Organization in the plan',
    'undo.button': 'Undo', 'undo.close': 'Close', 'undo.done': 'Undone.', 'undo.refused': 'Cannot undo: {why}', 'undo.more': 'and {n} more',
    'confirm.ok': 'OK', 'confirm.cancel': 'Cancel',
    'confirm.unassign': 'Remove {name} as the instructor of “{org}”?', 'confirm.acceptAll': 'Accept all {n} proposals? {orgs} organizations will change.',
    'changes.title': 'Changes', 'changes.none': 'No changes yet.', 'changes.reverted': 'undone', 'changes.confirm': 'Undo this change? {summary}',
    'pick.fullReason': '{name} is full ({load}/{cap})',
  },
};

const KEY = 'covermap.lang';
let lang = localStorage.getItem(KEY) === 'en' ? 'en' : 'zh';

/** The string for key in the current language, with {name} placeholders filled. */
export function t(key, vars = {}) {
  const s = strings[lang][key] ?? strings.zh[key] ?? key;
  return s.replace(/\{(\w+)\}/g, (_, k) => (k in vars ? String(vars[k]) : `{${k}}`));
}

export function language() { return lang; }

export function setLanguage(next) {
  lang = next === 'en' ? 'en' : 'zh';
  localStorage.setItem(KEY, lang);
  document.documentElement.lang = lang === 'en' ? 'en' : 'zh-CN';
  translate(document);
}

/** Fills elements marked data-i18n (text), data-i18n-placeholder and data-i18n-label. */
export function translate(root) {
  for (const el of root.querySelectorAll('[data-i18n]')) el.textContent = t(el.dataset.i18n);
  for (const el of root.querySelectorAll('[data-i18n-placeholder]')) el.placeholder = t(el.dataset.i18nPlaceholder);
  for (const el of root.querySelectorAll('[data-i18n-label]')) el.setAttribute('aria-label', t(el.dataset.i18nLabel));
}

export function percent(x) { return `${(x * 100).toFixed(1)} %`; }
